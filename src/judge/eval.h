// Evaluating a judge over a whole set: every (item, order, sample) judged once, each judgment
// appended to a results JSONL as soon as it finishes, resumable after a crash, and metrics plus a
// summary JSON at the end. The CLI's `fare eval` is a thin wrapper around run_eval.
#pragma once

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "judge/backend.h"
#include "judge/item.h"
#include "judge/metrics.h"
#include "judge/settings.h"

namespace fare::judge {

struct EvalOptions {
  std::string output_path;               // results JSONL; reopened and resumed when it exists
  std::string summary_path;              // empty: summary_path_for(output_path)
  std::optional<size_t> limit;           // judge only the first N items (after shuffling)
  std::optional<uint64_t> shuffle_seed;  // shuffle items before --limit
  int parallel = 1;                      // requests in flight at once
  std::ostream* log = nullptr;           // progress and notes; null: silent
  bool tty = false;                      // redraw a progress bar instead of printing lines
  double progress_interval_s = 30;       // plain-line progress period
  const std::atomic<bool>* stop = nullptr;  // set from a signal handler to stop after the jobs in flight
  nlohmann::ordered_json extra;          // copied into summary.json (dataset name, input files, ...)
};

struct EvalReport {
  Metrics metrics;
  JudgmentCounts counts;  // judgments of this evaluation, those resumed from the file included
  size_t n_items = 0;
  size_t n_jobs = 0;          // judgments the evaluation consists of
  size_t n_resumed = 0;       // found done in the results file
  size_t n_run = 0;           // made by this call
  size_t n_decisions_invalid = 0;
  size_t n_ties_broken = 0;   // self-consistency votes decided by the tie rule
  bool complete = false;      // false when stopped early
  std::string summary_path;
  nlohmann::ordered_json summary;
};

// Items in a deterministic order: Fisher-Yates with mt19937_64(seed) when a seed is given, then
// the first `limit`.
std::vector<Item> select_items(std::vector<Item> items, std::optional<size_t> limit,
                               std::optional<uint64_t> shuffle_seed);

// "out/jb.jsonl" -> "out/jb.summary.json" and "out/jb.report.html": named after the results file,
// so that several evaluations can share a folder without overwriting each other's.
std::string summary_path_for(const std::string& output_path);
std::string report_path_for(const std::string& output_path);

EvalReport run_eval(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Item>& items,
                    const EvalOptions& opts);

// Per-item decisions from a set of judgments (one item may have several orders and samples).
std::vector<ItemOutcome> outcomes_for(const std::vector<Item>& items, const std::vector<const Judgment*>& judgments);

}  // namespace fare::judge
