// Human-readable results: the metrics table printed at the end of an evaluation.
#pragma once

#include <string>

#include "judge/metrics.h"

namespace fare::judge {

// Rows are metrics, columns the groups ("overall", then subsets and difficulties without their
// "subset="/"difficulty=" prefix); rates print as percentages, undefined values as "-".
std::string format_metrics_table(const Metrics& m);

// "judgments 700, invalid 12 (no verdict line 8, unrecognised verdict 4), cut off 3, ..."
std::string format_counts(const JudgmentCounts& c);

std::string format_metric_value(const Metric& m);

}  // namespace fare::judge
