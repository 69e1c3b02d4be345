#include "judge/report_run.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/error.h"
#include "judge/dataset.h"
#include "judge/eval.h"
#include "judge/json_fields.h"
#include "judge/results_file.h"

namespace fare::judge {

using nlohmann::json;

namespace {

json read_summary(const RunSource& src, std::string& path) {
  path = src.summary_path.empty() ? summary_path_for(src.results_path) : src.summary_path;
  if (src.summary_path.empty() && !std::filesystem::exists(path)) {
    path.clear();
    return nullptr;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open the summary");
  std::ostringstream ss;
  ss << in.rdbuf();
  json summary;
  try {
    summary = json::parse(ss.str());
  } catch (const std::exception& e) {
    fail(path, ": not a JSON summary (", e.what(), ")");
  }
  require_object(summary, path);
  if (has_field(summary, "config")) require_object(summary.at("config"), path + ": config");
  return summary;
}

const json* config_field(const json& summary, const char* name) {
  if (summary.is_null() || !has_field(summary, "config") || !has_field(summary.at("config"), name)) return nullptr;
  return &summary.at("config").at(name);
}

// Task, model and template: from the summary where it has them, else from the judgments, which
// must then agree (a results file of one run always does).
void settle_identity(const std::vector<Judgment>& all, RunData& run) {
  const std::string where = run.summary_path.empty() ? run.results_path : run.summary_path;
  run.task = has_field(run.summary, "task") ? parse_task(string_field(run.summary, "task", where)) : all.front().task;
  run.model_id = all.front().model_id;
  run.model_family = all.front().model_family;
  std::set<std::string> hashes;
  for (const Judgment& j : all) {
    if (j.task != run.task)
      fail(run.results_path, " holds ", task_name(j.task), " judgments (item ", j.item_id, ") and this run is ",
           task_name(run.task), "; a report covers one task");
    if (j.model_id != run.model_id)
      fail(run.results_path, " holds judgments by '", run.model_id, "' and by '", j.model_id,
           "'; a report covers one model");
    hashes.insert(j.template_hash);
  }
  if (const json* h = config_field(run.summary, "template_hash")) {
    if (!h->is_string()) fail_field(where, "config.template_hash", *h, "a string");
    run.template_hash = h->get<std::string>();
  } else if (hashes.size() == 1) {
    run.template_hash = *hashes.begin();
  } else {
    fail(run.results_path, " holds judgments made with ", hashes.size(),
         " templates and there is no summary to say which run to report; pass --summary");
  }
  if (const json* s = config_field(run.summary, "swap")) {
    run.swap = s->is_boolean() && s->get<bool>();
  } else {
    for (const Judgment& j : all) run.swap = run.swap || (j.task == Task::kPairwise && j.order == Order::kSwapped);
  }
}

// The items the evaluation chose: its input files read again, selected with its --limit and
// --shuffle-seed. nullopt (with a note) when they cannot be read.
std::optional<std::vector<Item>> items_from_inputs(const RunSource& src, const RunData& run, std::string& note) {
  const json& s = run.summary;
  const std::string where = run.summary_path.empty() ? run.results_path : run.summary_path;
  std::vector<std::string> inputs = src.inputs;
  LoadOptions lo;
  lo.task = run.task;
  lo.answers_path = src.answers;
  if (inputs.empty()) {
    if (!has_field(s, "inputs")) {
      note = "no summary names the input files; pass --input to show questions and answers";
      return std::nullopt;
    }
    inputs = string_array_field(s, "inputs", where);
    lo.dataset = optional_string_field(s, "dataset", where).value_or("");
    if (lo.answers_path.empty()) lo.answers_path = optional_string_field(s, "answers", where).value_or("");
  }
  for (const std::string& p : inputs) {
    if (!std::filesystem::exists(p)) {
      note = cat("input file ", p, " not found; pass --input to show questions and answers");
      return std::nullopt;
    }
  }
  LoadResult loaded;
  try {
    loaded = load_datasets(inputs, lo);
  } catch (const Error& e) {
    note = cat("the input files could not be read again (", e.what(), ")");
    return std::nullopt;
  }
  std::optional<size_t> limit;
  std::optional<uint64_t> shuffle;
  if (has_field(s, "limit")) limit = static_cast<size_t>(int_field(s, "limit", where));
  if (has_field(s, "shuffle_seed")) shuffle = static_cast<uint64_t>(int_field(s, "shuffle_seed", where));
  return select_items(std::move(loaded.items), limit, shuffle);
}

// Without the input files: the items as the judgments describe them (id, label, subset,
// difficulty), in the order they were first judged.
std::vector<Item> items_from_judgments(const std::vector<Judgment>& all, const RunData& run) {
  std::vector<Item> items;
  std::set<std::string> seen;
  for (const Judgment& j : all) {
    if (j.template_hash != run.template_hash || !seen.insert(j.item_id).second) continue;
    Item it;
    it.id = j.item_id;
    it.task = j.task;
    it.label = j.label;
    it.subset = j.subset;
    it.difficulty = j.difficulty;
    items.push_back(std::move(it));
  }
  return items;
}

// The judgments `fare eval` counted for this run: its template, its items, the orders and samples
// it asked for, and the first line of each key.
void select_judgments(std::vector<Judgment>& all, RunData& run) {
  std::optional<int64_t> samples;
  if (const json* n = config_field(run.summary, "samples"); n && n->is_number_integer()) samples = n->get<int64_t>();
  const size_t n_all = all.size();
  std::set<std::string> keys;
  for (Judgment& j : all) {
    if (j.template_hash != run.template_hash || !run.item_index.count(j.item_id)) continue;
    if (samples && j.sample >= *samples) continue;
    if (j.task == Task::kPairwise && j.order == Order::kSwapped && !run.swap) continue;
    if (!keys.insert(j.key).second) continue;
    run.judgments_of[j.item_id].push_back(run.judgments.size());
    run.judgments.push_back(std::move(j));
  }
  if (run.judgments.empty())
    fail(run.results_path, ": none of its ", n_all, " judgments is of this run's items with template ",
         run.template_hash);
}

}  // namespace

const Item* RunData::item(const std::string& id) const {
  auto it = item_index.find(id);
  return it == item_index.end() ? nullptr : &items[it->second];
}

RunData load_run(const RunSource& src) {
  RunData run;
  run.results_path = src.results_path;
  std::vector<Judgment> all = read_results(src.results_path);
  run.summary = read_summary(src, run.summary_path);
  settle_identity(all, run);

  std::optional<std::vector<Item>> items = src.items;
  if (!items) items = items_from_inputs(src, run, run.texts_note);
  run.have_texts = items.has_value();
  run.items = items ? std::move(*items) : items_from_judgments(all, run);
  for (size_t i = 0; i < run.items.size(); ++i) run.item_index.emplace(run.items[i].id, i);
  select_judgments(all, run);

  std::vector<const Judgment*> mine;
  for (const Judgment& j : run.judgments) mine.push_back(&j);
  run.outcomes = outcomes_for(run.items, mine);
  run.metrics = compute_metrics(run.task, run.outcomes, run.swap);
  run.counts = count_judgments(mine);
  return run;
}

}  // namespace fare::judge
