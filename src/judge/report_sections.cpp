#include "judge/report_sections.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "common/error.h"
#include "judge/report.h"
#include "judge/report_items.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

constexpr int kLengthBins = 20;
constexpr int kCalibrationBins = 10;

std::string share(double part, double whole) {
  if (whole <= 0) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f%% of %.0f", 100 * part / whole, whole);
  return buf;
}

// The metric drawn per group: the headline, except ProcessBench's mean over subsets, which only
// exists overall (each subset has its own F1).
std::string group_metric(const RunData& run) {
  return run.metrics.headline_name == "f1_mean_over_subsets" ? "f1" : run.metrics.headline_name;
}

std::optional<Chart> headline_by(const SectionContext& ctx, const std::string& prefix, const std::string& what) {
  const std::string metric = group_metric(ctx.run);
  std::vector<BarRow> rows;
  for (const MetricGroup& g : ctx.run.metrics.groups) {
    if (g.name != "overall" && !g.name.starts_with(prefix)) continue;
    if (auto row = ctx.bar(g.name, metric, group_label(g.name))) {
      const Metric* n = g.metrics.empty() ? nullptr : &g.metrics.front();
      if (n && n->kind == MetricKind::kCount && n->value) row->note = cat(n->name, " = ", format_metric_value(*n));
      rows.push_back(*row);
    }
  }
  if (rows.size() < 2) return std::nullopt;
  const Metric* m = find_metric(ctx.run.metrics, "overall", metric);
  return interval_bars("chart-by-" + what, metric + " by " + what,
                       "Bars: the metric on each " + what + "'s items; lines: 95% bootstrap intervals.", rows, metric,
                       m && m->kind == MetricKind::kRate);
}

Chart outcome_split(const RunData& run) {
  std::vector<std::string> order = item_statuses(run.task, run.swap);
  std::map<std::string, double> counts;
  for (const ItemOutcome& o : run.outcomes) counts[item_status(run.task, o, run.swap).status] += 1;
  for (const auto& [status, n] : counts)
    if (std::find(order.begin(), order.end(), status) == order.end()) order.push_back(status);
  std::vector<std::pair<std::string, double>> rows;
  for (const std::string& s : order) rows.emplace_back(s, counts[s]);
  const std::map<std::string, std::string> colors = {
      {"consistent right", "#54a24b"}, {"right", "#54a24b"},         {"rated", "#54a24b"},
      {"consistent wrong", "#e45756"}, {"wrong", "#e45756"},         {"missed error", "#e45756"},
      {"false accept", "#e45756"},     {"far from reference", "#e45756"}, {"wrong step", "#f58518"},
      {"false alarm", "#b279a2"},      {"false reject", "#b279a2"},  {"inconsistent", "#eeca3b"},
      {"invalid", "#9d9da0"}};
  return count_bars("chart-outcomes", "How the items came out",
                    run.task == Task::kPairwise && run.swap
                        ? "Consistent: the same answer chosen in both orders. Invalid: no usable verdict in at least one order."
                        : "Items by how their decision compares with the label.",
                    rows, "items", colors);
}

std::string one_decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string per_hour(const JudgmentCounts& c) {
  if (c.seconds <= 0) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", 3600.0 * c.n_judgments / c.seconds);
  return buf;
}

Section overview(const SectionContext& ctx) {
  const RunData& run = ctx.run;
  Section s{"overview", "Overview", "", {}, {}, {}};
  const JudgmentCounts& c = run.counts;
  s.tiles.push_back(ctx.metric_tile(run.metrics.headline_name + " (headline)", "overall", run.metrics.headline_name));
  s.tiles.push_back({"items", std::to_string(run.items.size()), run.have_texts ? "" : "texts not available"});
  s.tiles.push_back({"judgments", std::to_string(c.n_judgments), ""});
  s.tiles.push_back({"invalid judgments", std::to_string(c.n_invalid), share(c.n_invalid, c.n_judgments)});
  s.tiles.push_back({"cut off by max tokens", std::to_string(c.n_cut_off), share(c.n_cut_off, c.n_judgments)});
  s.tiles.push_back({"judgments per hour", per_hour(c), "of generation time, one at a time"});
  if (!run.summary.is_null() && run.summary.value("complete", true) == false)
    s.note = "This run was stopped before the end: items without judgments count as invalid, as in its summary.";
  if (auto chart = headline_by(ctx, "subset=", "subset")) s.charts.push_back(*chart);
  if (auto chart = headline_by(ctx, "difficulty=", "difficulty")) s.charts.push_back(*chart);
  s.charts.push_back(outcome_split(run));
  return s;
}

std::vector<Bin> length_bins(const std::vector<Judgment>& judgments) {
  int max_len = 1;
  for (const Judgment& j : judgments) max_len = std::max(max_len, j.completion_tokens);
  const double width = std::max(1.0, std::ceil(static_cast<double>(max_len + 1) / kLengthBins));
  std::map<std::pair<int, std::string>, double> counts;
  for (const Judgment& j : judgments) {
    std::string kind = j.finish_reason == "length" ? "cut off" : !j.error.empty() ? "backend error" : "finished";
    counts[{static_cast<int>(j.completion_tokens / width), kind}] += 1;
  }
  std::vector<Bin> bins;
  for (const auto& [key, n] : counts) bins.push_back({key.first * width, (key.first + 1) * width, n, key.second});
  return bins;
}

// Judgments whose verdict came with a probability and whose rightness is known.
struct Calibration {
  std::vector<CalibrationBin> bins;
  double ece = 0;
  int n = 0;
};

Calibration calibration(const RunData& run) {
  std::vector<double> sum_conf(kCalibrationBins), sum_right(kCalibrationBins);
  std::vector<int> count(kCalibrationBins);
  Calibration cal;
  for (const Judgment& j : run.judgments) {
    if (!j.valid || !j.probs || !j.correct) continue;
    const std::string text = verdict_code_text(j.task, j.code);
    auto it = std::find(j.probs->options.begin(), j.probs->options.end(), text);
    if (it == j.probs->options.end()) continue;
    double p = j.probs->probs[it - j.probs->options.begin()];
    int b = std::min(kCalibrationBins - 1, static_cast<int>(p * kCalibrationBins));
    sum_conf[b] += p;
    sum_right[b] += *j.correct;
    ++count[b];
    ++cal.n;
  }
  for (int b = 0; b < kCalibrationBins; ++b) {
    if (!count[b]) continue;
    CalibrationBin bin{sum_conf[b] / count[b], sum_right[b] / count[b], count[b]};
    cal.ece += static_cast<double>(count[b]) / cal.n * std::fabs(bin.accuracy - bin.confidence);
    cal.bins.push_back(bin);
  }
  return cal;
}

Section generation(const SectionContext& ctx) {
  const RunData& run = ctx.run;
  const JudgmentCounts& c = run.counts;
  Section s{"generation", "Verdicts and generation", "", {}, {}, {}};
  s.tiles.push_back({"backend errors", std::to_string(c.n_backend_errors), share(c.n_backend_errors, c.n_judgments)});
  s.tiles.push_back({"mean output tokens", c.n_judgments ? one_decimal(static_cast<double>(c.completion_tokens) / c.n_judgments) : "n/a", ""});
  s.tiles.push_back({"tokens per second", c.seconds > 0 ? one_decimal(c.completion_tokens / c.seconds) : "n/a", "generated"});
  if (c.n_invalid > 0) {
    std::vector<std::pair<std::string, double>> reasons(c.invalid_reasons.begin(), c.invalid_reasons.end());
    std::stable_sort(reasons.begin(), reasons.end(), [](auto& a, auto& b) { return a.second > b.second; });
    s.charts.push_back(count_bars("chart-invalid-reasons", "Invalid verdicts by reason",
                                  "Judgments without a usable verdict; each counts as wrong in every accuracy.",
                                  reasons, "judgments"));
  } else {
    s.note = "Every judgment gave a usable verdict.";
  }
  s.charts.push_back(histogram("chart-lengths", "Generated length",
                               "Output tokens per judgment; cut off: stopped by the max-tokens limit.",
                               length_bins(run.judgments), "output tokens", "ended",
                               {{"finished", "#4c78a8"}, {"cut off", "#e45756"}, {"backend error", "#9d9da0"}}));
  Calibration cal = calibration(run);
  if (cal.n > 0) {
    char ece[32];
    std::snprintf(ece, sizeof ece, "%.3f", cal.ece);
    s.tiles.push_back({"expected calibration error", ece, cat("over ", cal.n, " judgments, ", kCalibrationBins, " bins")});
    std::string caption = "Accuracy of the verdicts against the probability the model gave them; on the diagonal the "
                          "model is as sure as it is right.";
    if (run.task == Task::kStep) caption += " Step confidences are approximate (numbers are written digit by digit).";
    caption += " Larger dots hold more judgments.";
    s.charts.push_back(reliability("chart-reliability", "Reliability diagram", caption, cal.bins));
  }
  return s;
}

Section metrics_table(const SectionContext& ctx) {
  Section s{"metrics", "Every metric", "As in the summary; 95% bootstrap intervals below each value.", {}, {}, {}};
  Table t;
  t.header.push_back("metric");
  std::vector<std::string> rows;
  for (const MetricGroup& g : ctx.run.metrics.groups) {
    t.header.push_back(group_label(g.name));
    for (const Metric& x : g.metrics)
      if (std::find(rows.begin(), rows.end(), x.name) == rows.end()) rows.push_back(x.name);
  }
  for (const std::string& name : rows) {
    std::vector<std::string> line = {name};
    for (const MetricGroup& g : ctx.run.metrics.groups) {
      const Metric* m = find_metric(ctx.run.metrics, g.name, name);
      std::string cell = m ? format_metric_value(*m) : "";
      if (m && m->kind != MetricKind::kCount && m->value)
        if (auto iv = ctx.interval(g.name, name))
          cell += "\n" + (m->kind == MetricKind::kRate ? format_rate(iv->lo) + " to " + format_rate(iv->hi)
                                                        : format_value(iv->lo) + " to " + format_value(iv->hi));
      line.push_back(cell);
    }
    t.rows.push_back(line);
  }
  s.tables.push_back(t);
  return s;
}

}  // namespace

const Metric* find_metric(const Metrics& m, const std::string& group, const std::string& metric) {
  const MetricGroup* g = m.group(group);
  if (!g) return nullptr;
  for (const Metric& x : g->metrics)
    if (x.name == metric) return &x;
  return nullptr;
}

std::string group_label(const std::string& group) {
  size_t eq = group.find('=');
  return eq == std::string::npos ? group : group.substr(eq + 1);
}

std::optional<Interval> SectionContext::interval(const std::string& group, const std::string& metric) const {
  auto it = intervals.find({group, metric});
  if (it == intervals.end()) return std::nullopt;
  return it->second;
}

std::optional<BarRow> SectionContext::bar(const std::string& group, const std::string& metric, std::string label,
                                          std::string series) const {
  const Metric* m = find_metric(run.metrics, group, metric);
  if (!m || !m->value) return std::nullopt;
  return BarRow{std::move(label), *m->value, interval(group, metric), std::move(series), ""};
}

Tile SectionContext::metric_tile(const std::string& label, const std::string& group, const std::string& metric) const {
  const Metric* m = find_metric(run.metrics, group, metric);
  if (!m) return {label, "-", "not defined for this run"};
  return {label, format_metric_value(*m), m->value ? format_interval(interval(group, metric), m->kind == MetricKind::kRate) : ""};
}

std::vector<Section> run_sections(const SectionContext& ctx) {
  std::vector<Section> out = {overview(ctx)};
  switch (ctx.run.task) {
    case Task::kPairwise: out.push_back(pairwise_section(ctx)); break;
    case Task::kStep: out.push_back(step_section(ctx)); break;
    case Task::kVerify:
    case Task::kVerifyRef: out.push_back(verify_section(ctx)); break;
    case Task::kRating: out.push_back(rating_section(ctx)); break;
  }
  out.push_back(generation(ctx));
  out.push_back(metrics_table(ctx));
  return out;
}

ojson failure_examples(const RunData& run, size_t per_kind) {
  std::map<std::string, std::vector<std::string>> ids;
  for (size_t i = 0; i < run.items.size(); ++i) {
    ItemStatus st = item_status(run.task, run.outcomes[i], run.swap);
    if (!st.failure_kind.empty()) ids[st.failure_kind].push_back(run.items[i].id);
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> kinds(ids.begin(), ids.end());
  std::stable_sort(kinds.begin(), kinds.end(), [](auto& a, auto& b) { return a.second.size() > b.second.size(); });
  ojson out = ojson::array();
  for (auto& [kind, list] : kinds) {
    size_t n = list.size();
    if (list.size() > per_kind) list.resize(per_kind);
    out.push_back({{"kind", kind}, {"count", n}, {"ids", list}});
  }
  return out;
}

}  // namespace fare::judge
