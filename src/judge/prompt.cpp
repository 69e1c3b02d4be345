#include "judge/prompt.h"

#include "common/error.h"

namespace fare::judge {

std::string_view order_name(Order order) { return order == Order::kAsGiven ? "ab" : "ba"; }

Order parse_order(std::string_view name) {
  if (name == "ab") return Order::kAsGiven;
  if (name == "ba") return Order::kSwapped;
  fail("order '", name, "', expected \"ab\" or \"ba\"");
}

std::vector<Message> build_messages(const TaskTemplate& tpl, const Item& item, Order order) {
  check_item_complete(item);
  FARE_CHECK(order == Order::kAsGiven || item.task == Task::kPairwise, "only pairwise items can be swapped");
  PlaceholderValues values = {{"instruction", item.instruction}};
  std::string tagged;
  switch (item.task) {
    case Task::kPairwise: {
      bool swapped = order == Order::kSwapped;
      values.push_back({"response_a", swapped ? item.response_b : item.response_a});
      values.push_back({"response_b", swapped ? item.response_a : item.response_b});
      break;
    }
    case Task::kStep:
      tagged = tag_steps(item.steps);
      values.push_back({"response", tagged});
      break;
    default: values.push_back({"response", *item.response});
  }
  if (item.reference) values.push_back({"reference", *item.reference});
  return {{"system", fill_placeholders(tpl.system, values)}, {"user", fill_placeholders(tpl.user, values)}};
}

}  // namespace fare::judge
