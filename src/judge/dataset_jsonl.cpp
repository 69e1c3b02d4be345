// The project's own item schema (item.h), one JSON object per line (a JSON array works too).
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

Task generic_task(const json& first, const LoadOptions& opts, const std::string& where) {
  return infer_task(first, opts.task, where);
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
