#include "judge/item.h"

#include "common/error.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

Task infer_task(const json& j, std::optional<Task> given, const std::string& where) {
  if (given) return *given;
  if (j.is_object() && j.contains("task") && j["task"].is_string()) return parse_task(j["task"].get<std::string>());
  auto has = [&](const char* k) { return j.is_object() && j.contains(k); };
  if (has("response_a") && has("response_b")) return Task::kPairwise;
  if (has("steps")) return Task::kStep;
  if (has("reference") && has("response")) return Task::kVerifyRef;
  fail(where, ": cannot tell the task of this item (verify or rating?); pass --task or give the item a \"task\" field");
}

Item item_from_json(const json& j, Task task, const std::string& where) {
  require_object(j, where);
  if (has_field(j, "task")) {
    std::string t = string_field(j, "task", where);
    if (t != task_name(task)) fail_field(where, "task", j.at("task"), cat("\"", task_name(task), "\""));
  }
  Item item;
  item.task = task;
  const json& id = require_field(j, "id", where);
  if (id.is_string())
    item.id = id.get<std::string>();
  else if (id.is_number_integer())
    item.id = std::to_string(id.get<int64_t>());
  else
    fail_field(where, "id", id, "a string or an integer");
  if (item.id.empty()) fail_field(where, "id", id, "a non-empty id");
  item.instruction = string_field(j, "instruction", where);
  switch (task) {
    case Task::kPairwise:
      item.response_a = string_field(j, "response_a", where);
      item.response_b = string_field(j, "response_b", where);
      break;
    case Task::kStep:
      item.steps = string_array_field(j, "steps", where);
      if (item.steps.empty()) fail(where, ": field 'steps' is empty, expected at least one step");
      break;
    case Task::kVerifyRef:
      item.reference = string_field(j, "reference", where);
      item.response = string_field(j, "response", where);
      break;
    case Task::kVerify:
    case Task::kRating:
      item.response = string_field(j, "response", where);
      break;
  }
  if (task != Task::kVerifyRef) item.reference = optional_string_field(j, "reference", where);
  if (has_field(j, "label")) {
    item.label = label_from_json(task, j.at("label"), where);
    if (task == Task::kStep && *item.label >= static_cast<double>(item.steps.size()))
      fail_field(where, "label", j.at("label"), cat("-1 or a step index 0..", item.steps.size() - 1));
  }
  item.subset = optional_string_field(j, "subset", where).value_or("");
  item.difficulty = optional_string_field(j, "difficulty", where).value_or("");
  if (has_field(j, "meta")) {
    if (!j.at("meta").is_object()) fail_field(where, "meta", j.at("meta"), "an object");
    item.meta = j.at("meta");
  }
  return item;
}

double label_from_json(Task task, const json& v, const std::string& where) {
  switch (task) {
    case Task::kPairwise:
      if (v == "A") return kOptionA;
      if (v == "B") return kOptionB;
      fail_field(where, "label", v, "\"A\" or \"B\"");
    case Task::kStep: {
      int64_t k = int_value(v, "label", where);
      if (k < -1) fail_field(where, "label", v, "-1 or a step index");
      return static_cast<double>(k);
    }
    case Task::kVerify:
    case Task::kVerifyRef:
      if (!v.is_boolean()) fail_field(where, "label", v, "true or false");
      return v.get<bool>() ? kCorrect : kIncorrect;
    case Task::kRating:
      if (!v.is_number()) fail_field(where, "label", v, "a number");
      return v.get<double>();
  }
  return 0;
}

json label_to_json(Task task, double label) {
  switch (task) {
    case Task::kPairwise: return label == kOptionA ? "A" : "B";
    case Task::kStep: return static_cast<int>(label);
    case Task::kVerify:
    case Task::kVerifyRef: return label == kCorrect;
    case Task::kRating: return label;
  }
  return nullptr;
}

json item_to_json(const Item& item) {
  json j = {{"id", item.id}, {"task", task_name(item.task)}, {"instruction", item.instruction}};
  switch (item.task) {
    case Task::kPairwise:
      j["response_a"] = item.response_a;
      j["response_b"] = item.response_b;
      break;
    case Task::kStep: j["steps"] = item.steps; break;
    default:
      if (item.response) j["response"] = *item.response;
  }
  if (item.reference) j["reference"] = *item.reference;
  if (item.label) j["label"] = label_to_json(item.task, *item.label);
  if (!item.subset.empty()) j["subset"] = item.subset;
  if (!item.difficulty.empty()) j["difficulty"] = item.difficulty;
  if (!item.meta.empty()) j["meta"] = item.meta;
  return j;
}

void check_item_complete(const Item& item) {
  if (is_verify(item.task) || item.task == Task::kRating) {
    if (!item.response)
      fail("item ", item.id, ": no response to judge (MT-Bench questions need answers: pass an answers file, ",
           "FastChat model_answer JSONL)");
  }
  if (item.task == Task::kVerifyRef && !item.reference)
    fail("item ", item.id, ": task verify_ref needs a reference answer");
  if (item.task == Task::kStep && item.steps.empty()) fail("item ", item.id, ": task step needs at least one step");
}

}  // namespace fare::judge
