// Benchmark metrics from per-item decisions (../shared/fare/README.md, "Benchmark protocols").
// Invalid verdicts count as wrong in every accuracy, and are reported as counts of their own.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/judgment.h"
#include "judge/task.h"

namespace fare::judge {

enum class MetricKind {
  kCount,  // an integer
  kRate,   // a fraction in [0, 1], printed as a percentage
  kValue,  // anything else (mean rating, correlation)
};

struct Metric {
  std::string name;
  std::optional<double> value;  // nullopt: undefined (e.g. precision with nothing predicted Correct)
  MetricKind kind = MetricKind::kValue;
};

struct MetricGroup {
  std::string name;  // "overall", "subset=gsm8k", "difficulty=hard"
  std::vector<Metric> metrics;
  std::optional<double> get(const std::string& metric) const;
};

struct Metrics {
  std::string headline_name;  // e.g. "accuracy_consistent", "f1_mean_over_subsets"
  std::optional<double> headline;
  std::vector<MetricGroup> groups;  // "overall" first
  const MetricGroup* group(const std::string& name) const;
};

// What metrics need of one item: its label and breakdown keys, and the decision of each order.
struct ItemOutcome {
  std::string item_id;
  std::optional<double> label;
  std::string subset;
  std::string difficulty;
  std::optional<Decision> as_given;
  std::optional<Decision> swapped;  // pairwise with swapping only
};

Metrics compute_metrics(Task task, const std::vector<ItemOutcome>& outcomes, bool swap);

// Sample-level bookkeeping: every judgment, valid or not.
struct JudgmentCounts {
  int n_judgments = 0;
  int n_invalid = 0;
  int n_cut_off = 0;        // finish_reason "length"
  int n_backend_errors = 0;
  std::map<std::string, int> invalid_reasons;
  long prompt_tokens = 0;
  long completion_tokens = 0;
  double seconds = 0;
};
JudgmentCounts count_judgments(const std::vector<const Judgment*>& judgments);

double harmonic_mean(double a, double b);  // 0 when both are 0
std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y);
// Pearson on average ranks (ties share the mean of their ranks).
std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y);

nlohmann::ordered_json metrics_to_json(const Metrics& m);
nlohmann::ordered_json counts_to_json(const JudgmentCounts& c);

}  // namespace fare::judge
