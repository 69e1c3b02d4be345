// What a one-run report shows, section by section: the overview and the task's own figures, how
// the verdicts were written (invalid ones, cut-off outputs, lengths, speed, calibration), every
// metric with its interval, and the failure examples.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "judge/report_charts.h"
#include "judge/report_run.h"
#include "judge/report_stats.h"

namespace fare::judge {

struct SectionContext {
  const RunData& run;
  const MetricIntervals& intervals;
  const BootstrapOptions& bootstrap;

  std::optional<Interval> interval(const std::string& group, const std::string& metric) const;
  // A bar for `metric` of `group`, or nothing when the metric is undefined there.
  std::optional<BarRow> bar(const std::string& group, const std::string& metric, std::string label,
                            std::string series = "") const;
  Tile metric_tile(const std::string& label, const std::string& group, const std::string& metric) const;
};

std::vector<Section> run_sections(const SectionContext& ctx);

// The task's own section (report_task_sections.cpp).
Section pairwise_section(const SectionContext& ctx);
Section step_section(const SectionContext& ctx);
Section verify_section(const SectionContext& ctx);
Section rating_section(const SectionContext& ctx);

// Failure kinds, most frequent first, with up to `per_kind` example item ids each (in run order).
nlohmann::ordered_json failure_examples(const RunData& run, size_t per_kind);

// Group names without their "subset="/"difficulty=" prefix.
std::string group_label(const std::string& group);

// The metric `metric` of group `group`, or null when the run has no such metric.
const Metric* find_metric(const Metrics& m, const std::string& group, const std::string& metric);

}  // namespace fare::judge
