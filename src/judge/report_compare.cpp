#include "judge/report_compare.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "judge/report.h"
#include "judge/report_items.h"
#include "judge/report_sections.h"

namespace fare::judge {

namespace {

std::string signed_text(double v, bool rate) {
  std::string s = rate ? format_rate(v) : format_value(v);
  return v > 0 ? "+" + s : s;
}

std::string config_text(const RunData& r, const char* name) {
  if (r.summary.is_null() || !r.summary.contains("config")) return "-";
  const auto& c = r.summary.at("config");
  if (c.contains(name)) return c.at(name).is_null() ? "-" : c.at(name).dump();
  if (c.contains("generation") && c.at("generation").contains(name)) return c.at("generation").at(name).dump();
  return "-";
}

Section runs_section(const RunData& a, const RunData& b, const Comparison& c) {
  Section s{"runs", "The two runs", "", {}, {}, {}};
  Table t;
  t.header = {"", "A", "B"};
  auto row = [&](const std::string& name, const std::string& va, const std::string& vb) { t.rows.push_back({name, va, vb}); };
  row("results", a.results_path, b.results_path);
  row("model", a.model_id, b.model_id);
  if (!a.model_family.empty() || !b.model_family.empty())
    row("model family", a.model_family.empty() ? "-" : a.model_family, b.model_family.empty() ? "-" : b.model_family);
  row("template hash", a.template_hash, b.template_hash);
  for (const char* k : {"think", "temperature", "max_tokens", "samples", "swap"}) row(k, config_text(a, k), config_text(b, k));
  if (config_text(a, "reasoning_effort") != "-" || config_text(b, "reasoning_effort") != "-")
    row("reasoning_effort", config_text(a, "reasoning_effort"), config_text(b, "reasoning_effort"));
  row("items", std::to_string(a.items.size()), std::to_string(b.items.size()));
  row("judgments", std::to_string(a.counts.n_judgments), std::to_string(b.counts.n_judgments));
  row("invalid judgments", std::to_string(a.counts.n_invalid), std::to_string(b.counts.n_invalid));
  auto headline = [](const RunData& r) {
    const Metric* m = find_metric(r.metrics, "overall", r.metrics.headline_name);
    return m ? r.metrics.headline_name + " " + format_metric_value(*m) : std::string("-");
  };
  row("headline, all its items", headline(a), headline(b));
  s.tables.push_back(t);
  size_t only_a = a.items.size() - c.index_a.size(), only_b = b.items.size() - c.index_b.size();
  if (only_a || only_b)
    s.note = cat("Compared on the ", c.index_a.size(), " items both runs judged; ", only_a, " items only in A and ",
                 only_b, " only in B are left out.");
  return s;
}

Section differences_section(const Comparison& c) {
  Section s{"differences", "Differences on the shared items",
            "B minus A, with 95% paired bootstrap intervals: the same resampled items are scored for both runs.",
            {}, {}, {}};
  const std::string headline = c.metrics_a.headline_name;
  s.tiles.push_back({"shared items", std::to_string(c.index_a.size()), ""});
  Table t;
  t.header = {"metric", "A", "B", "B - A", "95% CI of B - A"};
  std::vector<BarRow> rows;
  const MetricGroup* overall = c.metrics_a.group("overall");
  for (const Metric& ma : overall->metrics) {
    const Metric* mb = find_metric(c.metrics_b, "overall", ma.name);
    if (ma.kind == MetricKind::kCount || !mb || !ma.value || !mb->value) continue;
    bool rate = ma.kind == MetricKind::kRate;
    double diff = *mb->value - *ma.value;
    std::optional<Interval> iv;
    if (auto it = c.differences.find({"overall", ma.name}); it != c.differences.end()) iv = it->second;
    t.rows.push_back({ma.name, format_metric_value(ma), format_metric_value(*mb), signed_text(diff, rate),
                      iv ? signed_text(iv->lo, rate) + " to " + signed_text(iv->hi, rate) : "-"});
    if (ma.name == headline) {
      s.tiles.push_back({"A: " + headline, format_metric_value(ma), ""});
      s.tiles.push_back({"B: " + headline, format_metric_value(*mb), ""});
      s.tiles.push_back({"B - A", signed_text(diff, rate), format_interval(iv, rate)});
    }
    if (rate) rows.push_back({ma.name, diff, iv, "", ""});
  }
  if (c.mcnemar) {
    char p[32];
    std::snprintf(p, sizeof p, "%.3g", c.mcnemar->p_value);
    s.tiles.push_back({"McNemar p-value", p,
                       cat(c.mcnemar->only_a_right, " items right only in A, ", c.mcnemar->only_b_right, " only in B")});
  }
  if (!rows.empty())
    s.charts.push_back(difference_dots("chart-differences", "Rate differences, B - A",
                                       "Dots: the difference on the shared items; lines: 95% paired bootstrap "
                                       "intervals. An interval that crosses zero is no evidence of a difference.",
                                       rows, "B - A", true));
  s.tables.push_back(t);
  return s;
}

std::optional<Chart> group_differences(const Comparison& c) {
  std::string metric = c.metrics_a.headline_name == "f1_mean_over_subsets" ? "f1" : c.metrics_a.headline_name;
  const Metric* kind = find_metric(c.metrics_a, "overall", metric);
  std::vector<BarRow> rows;
  for (const MetricGroup& g : c.metrics_a.groups) {
    const Metric* ma = find_metric(c.metrics_a, g.name, metric);
    const Metric* mb = find_metric(c.metrics_b, g.name, metric);
    if (!ma || !mb || !ma->value || !mb->value) continue;
    std::optional<Interval> iv;
    if (auto it = c.differences.find({g.name, metric}); it != c.differences.end()) iv = it->second;
    rows.push_back({group_label(g.name), *mb->value - *ma->value, iv, "", ""});
  }
  if (rows.size() < 2) return std::nullopt;
  return difference_dots("chart-group-differences", metric + " difference by group, B - A",
                         "Per subset and difficulty, on the items both runs judged.", rows, "B - A",
                         kind && kind->kind == MetricKind::kRate);
}

Section agreement_section(const Comparison& c) {
  Section s{"agreement", "Where the runs disagree", "", {}, {}, {}};
  if (auto chart = group_differences(c)) s.charts.push_back(*chart);
  s.tiles.push_back({"items decided differently", std::to_string(c.disagreements.size()),
                     cat("of ", c.index_a.size(), " shared items")});
  if (c.mcnemar) {
    const McNemar& m = *c.mcnemar;
    Table t;
    t.header = {"", "B right", "B not right"};
    t.rows.push_back({"A right", std::to_string(m.both_right), std::to_string(m.only_a_right)});
    t.rows.push_back({"A not right", std::to_string(m.only_b_right), std::to_string(m.both_wrong)});
    s.tables.push_back(t);
    char chi[64];
    std::snprintf(chi, sizeof chi, "%.3f", m.chi2);
    s.note = cat("McNemar's test uses only the items exactly one run got right (", m.only_a_right, " and ",
                 m.only_b_right, "); the exact binomial p-value is shown, chi-squared with continuity correction ",
                 chi, ". Invalid and unlabelled items count as not right.");
  } else {
    s.note = "Ratings have no right answer, so McNemar's test does not apply; the items below got different ratings.";
  }
  return s;
}

}  // namespace

Comparison compare_runs(const RunData& a, const RunData& b, const BootstrapOptions& opts) {
  if (a.task != b.task)
    fail(a.results_path, " is a ", task_name(a.task), " run and ", b.results_path, " a ", task_name(b.task),
         " run; only runs of one task can be compared");
  Comparison c;
  for (size_t i = 0; i < a.items.size(); ++i) {
    auto it = b.item_index.find(a.items[i].id);
    if (it == b.item_index.end()) continue;
    const Item &ia = a.items[i], &ib = b.items[it->second];
    if (ia.label != ib.label)
      fail("item ", ia.id, " is labelled ", ia.label ? code_text(a.task, *ia.label) : "none", " in ", a.results_path,
           " and ", ib.label ? code_text(b.task, *ib.label) : "none", " in ", b.results_path,
           "; the runs are not of the same benchmark");
    c.index_a.push_back(i);
    c.index_b.push_back(it->second);
    c.outcomes_a.push_back(a.outcomes[i]);
    c.outcomes_b.push_back(b.outcomes[it->second]);
  }
  if (c.index_a.empty())
    fail(a.results_path, " and ", b.results_path, " share no item id; a comparison needs two runs on the same items");
  c.metrics_a = compute_metrics(a.task, c.outcomes_a, a.swap);
  c.metrics_b = compute_metrics(b.task, c.outcomes_b, b.swap);
  c.differences = bootstrap_differences(a.task, c.outcomes_a, a.swap, c.outcomes_b, b.swap, opts);
  std::vector<bool> right_a, right_b;
  for (size_t k = 0; k < c.index_a.size(); ++k) {
    right_a.push_back(item_status(a.task, c.outcomes_a[k], a.swap).right);
    right_b.push_back(item_status(b.task, c.outcomes_b[k], b.swap).right);
    if (decision_text(a.task, c.outcomes_a[k]) != decision_text(b.task, c.outcomes_b[k])) c.disagreements.push_back(k);
  }
  if (a.task != Task::kRating) c.mcnemar = mcnemar(right_a, right_b);
  return c;
}

std::vector<Section> comparison_sections(const RunData& a, const RunData& b, const Comparison& c) {
  return {runs_section(a, b, c), differences_section(c), agreement_section(c)};
}

}  // namespace fare::judge
