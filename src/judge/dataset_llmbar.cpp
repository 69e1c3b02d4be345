// LLMBar (princeton-nlp) and its processed FairEval / LLMEval2 / MT-Bench sets: a JSON array of
// {input, output_1, output_2, label 1|2} with no ids. The subset is the file's folder
// (Natural, Neighbor, GPTInst, GPTOut, Manual, FairEval, LLMEval2, MT-Bench).
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

namespace {

Converter llmbar_converter(const std::filesystem::path& path) {
  std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  std::string subset = dir.filename().string();
  std::string group = dir.parent_path().filename().string();  // Adversarial, LLMBar, Processed
  if (subset.empty()) subset = "llmbar";
  return [subset, group](const json& v, const Record& rec, std::vector<Item>& out) {
    const std::string& where = rec.where;
    require_object(v, where);
    Item item;
    item.task = Task::kPairwise;
    item.id = cat(subset, "-", rec.index);
    item.instruction = string_field(v, "input", where);
    item.response_a = string_field(v, "output_1", where);
    item.response_b = string_field(v, "output_2", where);
    const json& label = require_field(v, "label", where);
    int64_t k = int_value(label, "label", where);
    if (k != 1 && k != 2) fail_field(where, "label", label, "1 or 2");
    item.label = k == 1 ? kOptionA : kOptionB;
    item.subset = subset;
    item.meta = {{"index", rec.index}, {"group", group}};
    out.push_back(std::move(item));
  };
}

}  // namespace

DatasetAdapter llmbar_adapter() {
  return keyed_adapter({"llmbar", "pairwise", "LLMBar and its processed sets, JSON: label 1 -> A, 2 -> B"}, Task::kPairwise, {"input", "output_1", "output_2", "label"},
                       [](const std::filesystem::path& path) { return llmbar_converter(path); });
}

}  // namespace fare::judge
