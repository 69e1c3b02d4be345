#include "judge/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace fare::judge {

std::string format_metric_value(const Metric& m) {
  if (!m.value) return "-";
  char buf[32];
  switch (m.kind) {
    case MetricKind::kCount: std::snprintf(buf, sizeof buf, "%.0f", *m.value); break;
    case MetricKind::kRate: std::snprintf(buf, sizeof buf, "%.2f%%", *m.value * 100); break;
    case MetricKind::kValue: std::snprintf(buf, sizeof buf, "%.3f", *m.value); break;
  }
  return buf;
}

std::string format_metrics_table(const Metrics& m) {
  if (m.groups.empty()) return "";
  std::vector<std::string> rows;  // metric names in first-seen order
  for (const MetricGroup& g : m.groups)
    for (const Metric& x : g.metrics)
      if (std::find(rows.begin(), rows.end(), x.name) == rows.end()) rows.push_back(x.name);
  std::vector<std::string> headers = {"metric"};
  for (const MetricGroup& g : m.groups) {
    size_t eq = g.name.find('=');
    headers.push_back(eq == std::string::npos ? g.name : g.name.substr(eq + 1));
  }
  std::vector<std::vector<std::string>> cells;
  for (const std::string& row : rows) {
    std::vector<std::string> line = {row};
    for (const MetricGroup& g : m.groups) {
      std::string cell;
      for (const Metric& x : g.metrics)
        if (x.name == row) cell = format_metric_value(x);
      line.push_back(cell.empty() ? "" : cell);
    }
    cells.push_back(line);
  }
  std::vector<size_t> width(headers.size());
  for (size_t c = 0; c < headers.size(); ++c) {
    width[c] = headers[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  auto emit = [&](const std::vector<std::string>& line) {
    std::string s;
    for (size_t c = 0; c < line.size(); ++c) {
      std::string pad(width[c] - line[c].size(), ' ');
      s += c == 0 ? line[c] + pad : "  " + pad + line[c];
    }
    return s + "\n";
  };
  std::string out = emit(headers);
  for (const auto& line : cells) out += emit(line);
  if (m.headline) {
    Metric h{m.headline_name, m.headline, MetricKind::kRate};
    for (const Metric& x : m.groups.front().metrics)
      if (x.name == m.headline_name) h.kind = x.kind;
    out += cat("headline: ", m.headline_name, " = ", format_metric_value(h), "\n");
  }
  return out;
}

std::string format_counts(const JudgmentCounts& c) {
  std::string s = cat("judgments ", c.n_judgments, ", invalid ", c.n_invalid);
  if (!c.invalid_reasons.empty()) {
    std::vector<std::pair<std::string, int>> reasons(c.invalid_reasons.begin(), c.invalid_reasons.end());
    std::stable_sort(reasons.begin(), reasons.end(), [](auto& a, auto& b) { return a.second > b.second; });
    s += " (";
    for (size_t i = 0; i < reasons.size(); ++i) s += cat(i ? ", " : "", reasons[i].first, " ", reasons[i].second);
    s += ")";
  }
  s += cat(", cut off by max tokens ", c.n_cut_off);
  if (c.n_backend_errors) s += cat(", backend errors ", c.n_backend_errors);
  s += cat(", tokens in/out ", c.prompt_tokens, "/", c.completion_tokens);
  if (c.seconds > 0) {
    char rate[48];
    std::snprintf(rate, sizeof rate, ", %.1f tok/s generated", static_cast<double>(c.completion_tokens) / c.seconds);
    s += rate;
  }
  return s;
}

}  // namespace fare::judge
