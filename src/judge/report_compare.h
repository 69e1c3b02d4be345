// Two runs judged on the same items (two models, two templates, thinking on and off): each metric
// on the shared items with a paired bootstrap interval of the difference, McNemar's test on the
// items each run got right, and the items on which they decided differently.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "judge/report_charts.h"
#include "judge/report_run.h"
#include "judge/report_stats.h"

namespace fare::judge {

struct Comparison {
  std::vector<size_t> index_a, index_b;  // shared items: positions in a.items and b.items, in a's order
  std::vector<ItemOutcome> outcomes_a, outcomes_b;
  Metrics metrics_a, metrics_b;     // on the shared items only
  MetricIntervals differences;      // of b - a
  std::optional<McNemar> mcnemar;   // for tasks with a right answer (not ratings)
  std::vector<size_t> disagreements;  // positions in index_a/index_b whose decisions differ
};

// Throws fare::Error when the runs are of different tasks, share no item, or label a shared item
// differently (then they are not the same benchmark).
Comparison compare_runs(const RunData& a, const RunData& b, const BootstrapOptions& opts);

std::vector<Section> comparison_sections(const RunData& a, const RunData& b, const Comparison& c);

}  // namespace fare::judge
