// ProcessBench (Qwen): a JSON array of {id "<split>-<n>", generator, problem, steps[], final_answer_correct,
// label}; label is the earliest wrong step or -1. Some copies store the label as a string.
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

namespace {

Converter processbench_converter(const std::filesystem::path& path) {
  std::string stem = path.stem().string();
  return [stem](const json& v, const Record& rec, std::vector<Item>& out) {
    const std::string& where = rec.where;
    require_object(v, where);
    Item item;
    item.task = Task::kStep;
    item.id = string_field(v, "id", where);
    item.instruction = string_field(v, "problem", where);
    item.steps = string_array_field(v, "steps", where);
    if (item.steps.empty()) fail(where, ": field 'steps' is empty, expected at least one step");
    int64_t label = int_field(v, "label", where);
    if (label < -1 || label >= static_cast<int64_t>(item.steps.size()))
      fail_field(where, "label", v.at("label"), cat("-1 or a step index 0..", item.steps.size() - 1));
    item.label = static_cast<double>(label);
    // The split is the id's prefix ("olympiadbench-12"); the file name may carry a variant suffix.
    size_t dash = item.id.rfind('-');
    item.subset = dash != std::string::npos && dash > 0 ? item.id.substr(0, dash) : stem;
    item.meta = {{"generator", optional_string_field(v, "generator", where).value_or("")},
                 {"final_answer_correct", bool_field(v, "final_answer_correct", where)}};
    out.push_back(std::move(item));
  };
}

}  // namespace

DatasetAdapter processbench_adapter() {
  return keyed_adapter({"processbench", "step", "ProcessBench (Qwen) JSON: steps[], label = first wrong step or -1"}, Task::kStep, {"problem", "steps", "label"},
                       [](const std::filesystem::path& path) { return processbench_converter(path); });
}

}  // namespace fare::judge
