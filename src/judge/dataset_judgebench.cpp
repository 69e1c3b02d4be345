// JudgeBench (ScalerLab): {pair_id, original_id (int or null), source, question, response_model,
// response_A, response_B, label "A>B" | "B>A"}, one pair per line.
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

namespace {

void convert_judgebench(const json& v, const Record& rec, std::vector<Item>& out) {
  const std::string& where = rec.where;
  require_object(v, where);
  Item item;
  item.task = Task::kPairwise;
  item.id = string_field(v, "pair_id", where);
  item.instruction = string_field(v, "question", where);
  item.response_a = string_field(v, "response_A", where);
  item.response_b = string_field(v, "response_B", where);
  const json& label = require_field(v, "label", where);
  if (label == "A>B")
    item.label = kOptionA;
  else if (label == "B>A")
    item.label = kOptionB;
  else
    fail_field(where, "label", label, "\"A>B\" or \"B>A\"");
  std::string source = string_field(v, "source", where);
  // Upstream reports mmlu-pro as one category over its 14 subjects.
  item.subset = source.starts_with("mmlu-pro") ? "mmlu-pro" : source;
  const json& original_id = require_field(v, "original_id", where);
  if (!original_id.is_null() && !original_id.is_number_integer())
    fail_field(where, "original_id", original_id, "an integer or null");
  item.meta = {{"source", source},
               {"original_id", original_id},
               {"response_model", optional_string_field(v, "response_model", where).value_or("")}};
  out.push_back(std::move(item));
}

}  // namespace

DatasetAdapter judgebench_adapter() {
  return keyed_adapter({"judgebench", "pairwise", "JudgeBench (ScalerLab) JSONL: label \"A>B\"/\"B>A\""}, Task::kPairwise, {"pair_id", "response_A", "response_B", "label"},
                       [](const std::filesystem::path&) -> Converter { return convert_judgebench; });
}

}  // namespace fare::judge
