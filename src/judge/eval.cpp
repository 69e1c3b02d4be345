#include "judge/eval.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/durable_file.h"
#include "common/error.h"
#include "judge/judge.h"
#include "judge/progress.h"
#include "judge/report.h"
#include "judge/results_file.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Written whole or not at all: a kill or a full disk leaves the previous summary in place.
void write_summary(const std::string& path, const ojson& summary, const std::string& output_path) {
  try {
    replace_file_durably(path, summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } catch (const Error& e) {
    fail("cannot write the summary: ", e.what(), "; the judgments are all in ", output_path,
         ": run the same command again to write it");
  }
}

// Before any judging, so that an output that cannot be written costs no compute: the results
// file (or, while it does not exist, its folder) and the summary's folder must be writable.
void check_writable(const std::string& path, bool is_folder, std::string_view what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (is_folder) fs::create_directories(path, ec);
  if (ec) fail("cannot create the folder for the ", what, " ", path, ": ", ec.message(), "; nothing was judged");
  if (::access(path.c_str(), W_OK) != 0)
    fail("cannot write the ", what, " to ", path, ": ", std::strerror(errno), "; nothing was judged or changed");
}

void check_outputs_writable(const std::string& output_path, const std::string& summary_path) {
  namespace fs = std::filesystem;
  auto folder_of = [](const std::string& p) {
    const fs::path dir = fs::path(p).parent_path();
    return dir.empty() ? std::string(".") : dir.string();
  };
  if (fs::exists(output_path)) {
    check_writable(output_path, false, "results");
  } else {
    check_writable(folder_of(output_path), true, "results");
  }
  check_writable(folder_of(summary_path), true, "summary");
}

ojson make_summary(const EvalReport& report, const JudgeBackend& backend, const JudgeConfig& config,
                   const EvalOptions& opts) {
  const std::string family = backend.chat_family();
  ojson summary = {{"complete", report.complete},
                   {"model_id", backend.model_id()},
                   {"model_family", family.empty() ? ojson() : ojson(family)},
                   {"task", task_name(config.task)}};
  for (const auto& [k, v] : opts.extra.items()) summary[k] = v;
  summary["output"] = opts.output_path;
  summary["items"] = report.n_items;
  summary["judgments_planned"] = report.n_jobs;
  summary["judgments_resumed"] = report.n_resumed;
  summary["judgments_run"] = report.n_run;
  summary["config"] = config_to_json(config);
  summary["metrics"] = metrics_to_json(report.metrics);
  summary["judgments"] = counts_to_json(report.counts);
  summary["decisions"] = {{"invalid", report.n_decisions_invalid}, {"ties_broken", report.n_ties_broken}};
  summary["finished_at"] = now_iso8601();
  return summary;
}

// Keys do not include sampling settings, so a rerun with other settings would silently reuse old
// judgments; say so (the summary's config is this run's).
void warn_if_settings_differ(const std::unordered_map<std::string, const Judgment*>& done,
                             const std::vector<std::string>& planned_keys, const JudgeConfig& config,
                             const EvalOptions& opts) {
  if (!opts.log) return;
  const GenerationSettings& g = config.generation;
  size_t differ = 0;
  for (const std::string& key : planned_keys) {
    auto it = done.find(key);
    if (it == done.end()) continue;
    const Judgment& j = *it->second;
    differ += j.think != config.think || j.reasoning_effort != config.reasoning_effort ||
              j.generation.temperature != g.temperature || j.generation.top_p != g.top_p ||
              j.generation.top_k != g.top_k || j.generation.max_tokens != g.max_tokens;
  }
  if (differ)
    *opts.log << "note: " << differ << " judgments reused from " << opts.output_path
              << " were made with other generation settings (think, reasoning effort, temperature, top-p, top-k or max tokens); "
              << "use another --output to judge again with these\n";
}

void check_items(const std::vector<Item>& items, const JudgeConfig& config) {
  std::unordered_set<std::string> ids;
  for (const Item& item : items) {
    if (item.task != config.task)
      fail("item ", item.id, " is a ", task_name(item.task), " item, the evaluation is for task ",
           task_name(config.task));
    check_item_complete(item);
    if (!ids.insert(item.id).second) fail("item id '", item.id, "' occurs twice; ids must be unique");
  }
}

void check_existing(const ExistingResults& existing, const JudgeBackend& backend, const JudgeConfig& config,
                    const std::string& path) {
  std::string model = backend.model_id();
  for (const Judgment& j : existing.judgments) {
    if (j.model_id != model)
      fail(path, " holds judgments by model '", j.model_id, "', this run uses '", model,
           "'; use another --output to keep them apart");
    if (j.task != config.task)
      fail(path, " holds ", task_name(j.task), " judgments, this run is for task ", task_name(config.task));
  }
}

}  // namespace

std::vector<Item> select_items(std::vector<Item> items, std::optional<size_t> limit,
                               std::optional<uint64_t> shuffle_seed) {
  if (shuffle_seed) {
    // Written out rather than std::shuffle, whose draws are library-specific: the same seed must
    // pick the same items everywhere.
    std::mt19937_64 rng(*shuffle_seed);
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng() % i]);
  }
  if (limit && *limit < items.size()) items.resize(*limit);
  return items;
}

namespace {
// The results path without its .jsonl (or .json) extension; other names are kept whole.
std::string results_stem(const std::string& output_path) {
  for (std::string_view ext : {".jsonl", ".json"})
    if (output_path.ends_with(ext) && output_path.size() > ext.size())
      return output_path.substr(0, output_path.size() - ext.size());
  return output_path;
}
}  // namespace

std::string summary_path_for(const std::string& output_path) { return results_stem(output_path) + ".summary.json"; }
std::string report_path_for(const std::string& output_path) { return results_stem(output_path) + ".report.html"; }

std::vector<ItemOutcome> outcomes_for(const std::vector<Item>& items, const std::vector<const Judgment*>& judgments) {
  std::unordered_map<std::string, std::vector<const Judgment*>> by_item;
  for (const Judgment* j : judgments) by_item[j->item_id].push_back(j);
  std::vector<ItemOutcome> out;
  for (const Item& item : items) {
    ItemOutcome o{item.id, item.label, item.subset, item.difficulty, std::nullopt, std::nullopt};
    auto it = by_item.find(item.id);
    if (it != by_item.end()) {
      for (const Decision& d : decide_orders(it->second)) (d.order == Order::kAsGiven ? o.as_given : o.swapped) = d;
    }
    out.push_back(std::move(o));
  }
  return out;
}

EvalReport run_eval(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Item>& items,
                    const EvalOptions& opts) {
  FARE_CHECK(!opts.output_path.empty(), "run_eval needs an output path");
  check_model_family(config, backend.chat_family());
  EvalReport report;
  std::vector<Item> chosen = select_items(items, opts.limit, opts.shuffle_seed);
  check_items(chosen, config);
  report.n_items = chosen.size();
  report.summary_path = opts.summary_path.empty() ? summary_path_for(opts.output_path) : opts.summary_path;
  check_outputs_writable(opts.output_path, report.summary_path);

  ExistingResults existing = open_results(opts.output_path);
  if (existing.repaired && opts.log) *opts.log << "note: " << opts.output_path << ": " << existing.repair_note << "\n";
  check_existing(existing, backend, config, opts.output_path);
  std::unordered_map<std::string, const Judgment*> done;
  size_t duplicates = 0;
  for (const Judgment& j : existing.judgments) duplicates += !done.emplace(j.key, &j).second;
  if (duplicates && opts.log)
    *opts.log << "note: " << opts.output_path << " repeats " << duplicates << " keys; the first of each counts\n";

  std::vector<Job> planned, pending;
  std::vector<std::string> planned_keys;
  const std::string hash = config.tpl.hash();
  for (const Item& item : chosen) {
    for (const Job& job : jobs_for_item(item, config)) {
      std::string key = judgment_key(item.id, config.task, job.order, job.sample, hash);
      planned.push_back(job);
      planned_keys.push_back(key);
      if (!done.count(key)) pending.push_back(job);
    }
  }
  warn_if_settings_differ(done, planned_keys, config, opts);
  report.n_jobs = planned.size();
  report.n_resumed = planned.size() - pending.size();
  if (opts.log && report.n_resumed)
    *opts.log << "resuming: " << report.n_resumed << " of " << report.n_jobs << " judgments already in "
              << opts.output_path << "\n";

  std::vector<Judgment> fresh;
  fresh.reserve(pending.size());
  {
    ResultsWriter writer(opts.output_path);
    Progress progress(opts.log, opts.tty, pending.size(), opts.progress_interval_s, [&] { return backend.load(); });
    run_jobs(backend, config, pending, opts.parallel, opts.stop, [&](size_t, Judgment&& j) {
      writer.append(j);
      progress.advance(j.completion_tokens, !j.valid);
      fresh.push_back(std::move(j));
    });
    if (!pending.empty()) progress.finish();
  }
  report.n_run = fresh.size();
  report.complete = report.n_resumed + report.n_run == report.n_jobs;

  std::unordered_map<std::string, const Judgment*> by_key = done;
  for (const Judgment& j : fresh) by_key.emplace(j.key, &j);
  std::vector<const Judgment*> mine;
  for (const std::string& key : planned_keys)
    if (auto it = by_key.find(key); it != by_key.end()) mine.push_back(it->second);

  std::vector<ItemOutcome> outcomes = outcomes_for(chosen, mine);
  for (const ItemOutcome& o : outcomes) {
    for (const auto* d : {&o.as_given, &o.swapped}) {
      if (!*d) continue;
      report.n_decisions_invalid += !(*d)->valid;
      report.n_ties_broken += (*d)->tie_broken;
    }
  }
  report.metrics = compute_metrics(config.task, outcomes, config.swap);
  report.counts = count_judgments(mine);

  ojson summary = make_summary(report, backend, config, opts);
  write_summary(report.summary_path, summary, opts.output_path);
  report.summary = std::move(summary);
  return report;
}

}  // namespace fare::judge
