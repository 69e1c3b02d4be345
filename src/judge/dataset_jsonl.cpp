// The project's own item schema (item.h), one JSON object per line (a JSON array works too).
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

Task generic_task(const json& first, const LoadOptions& opts, const std::string& where) {
  if (opts.task) return *opts.task;
  if (first.is_object() && first.contains("task") && first["task"].is_string())
    return parse_task(first["task"].get<std::string>());
  if (has_keys(first, {"response_a", "response_b"})) return Task::kPairwise;
  if (has_keys(first, {"steps"})) return Task::kStep;
  if (has_keys(first, {"reference", "response"})) return Task::kVerifyRef;
  fail(where, ": cannot tell the task of this item (verify or rating?); pass --task or give each item a "
       "\"task\" field");
}

DatasetAdapter generic_adapter() {
  DatasetAdapter a;
  a.info = {"jsonl", "any", "the project's item schema: {id, instruction, ...} (docs/JUDGE.md)"};
  a.matches = [](const std::filesystem::path&, const json&) { return true; };
  a.prepare = [](const std::filesystem::path&, const LoadOptions&, Task task) -> Converter {
    return [task](const json& v, const Record& rec, std::vector<Item>& out) {
      out.push_back(item_from_json(v, task, rec.where));
    };
  };
  return a;
}

}  // namespace fare::judge
