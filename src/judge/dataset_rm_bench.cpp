// RM-Bench (THU-KEG): a JSON array of {id, subset, prompt, chosen[3], rejected[3], ...} per domain
// file. Every (chosen[i], rejected[j]) is one comparison, 9 per prompt; index 0 is concise, 1 detailed
// plain text, 2 detailed markdown. Difficulty follows upstream: i < j hard (the chosen answer has the
// plainer style), i == j normal, i > j easy. The safety files pool into one "safety" domain.
#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

namespace {

constexpr int kStyles = 3;

// The file's domain from its name ("safety-refuse_filtered.json"); empty when the name is unknown.
std::string kind_from_path(const std::filesystem::path& path) {
  std::string stem = path.stem().string();
  if (stem.ends_with("_filtered")) stem.resize(stem.size() - 9);
  for (const char* k : {"chat", "code", "math", "safety-refuse", "safety-response"})
    if (stem == k) return k;
  return "";
}

// For renamed files: the domain from the record's upstream subset.
std::string kind_from_subset(const std::string& subset) {
  if (subset == "alpacaeval") return "chat";
  if (subset.find("humanevalpack") != std::string::npos) return "code";
  if (subset == "xstest-should-respond") return "safety-response";
  if (subset.starts_with("xstest-should-refuse") || subset.starts_with("refusals")) return "safety-refuse";
  return "rm_bench";
}

Converter rm_bench_converter(std::string path_kind) {
  return [path_kind](const json& v, const Record& rec, std::vector<Item>& out) {
    const std::string& where = rec.where;
    require_object(v, where);
    std::string subset = optional_string_field(v, "subset", where).value_or("");
    std::string kind = path_kind.empty() ? kind_from_subset(subset) : path_kind;
    std::string domain = kind.starts_with("safety") ? "safety" : kind;
    int64_t id = int_field(v, "id", where);
    std::string prompt = string_field(v, "prompt", where);
    std::vector<std::string> chosen = string_array_field(v, "chosen", where, kStyles);
    std::vector<std::string> rejected = string_array_field(v, "rejected", where, kStyles);
    json meta = {{"prompt_id", id}, {"subset", subset}};
    for (const char* extra : {"language", "task_id", "error_key"})
      if (has_field(v, extra)) meta[extra] = v.at(extra);
    for (int i = 0; i < kStyles; ++i) {
      for (int j = 0; j < kStyles; ++j) {
        // A reward model scores answers one by one; a pairwise judge must see them in some order.
        // Alternating the chosen answer's side keeps the labels balanced even without swapping.
        bool chosen_first = (id + i + j) % 2 == 0;
        Item item;
        item.task = Task::kPairwise;
        item.id = cat(kind, "-", id, "-c", i, "-r", j);
        item.instruction = prompt;
        item.response_a = chosen_first ? chosen[i] : rejected[j];
        item.response_b = chosen_first ? rejected[j] : chosen[i];
        item.label = chosen_first ? kOptionA : kOptionB;
        item.subset = domain;
        item.difficulty = i < j ? "hard" : i == j ? "normal" : "easy";
        item.meta = meta;
        item.meta["chosen_index"] = i;
        item.meta["rejected_index"] = j;
        out.push_back(std::move(item));
      }
    }
  };
}

}  // namespace

DatasetAdapter rm_bench_adapter() {
  return keyed_adapter({"rm_bench", "pairwise", "RM-Bench (THU-KEG) JSON: 3 chosen x 3 rejected = 9 pairs per prompt"}, Task::kPairwise, {"prompt", "chosen", "rejected"},
                       [](const std::filesystem::path& path) { return rm_bench_converter(kind_from_path(path)); });
}

}  // namespace fare::judge
