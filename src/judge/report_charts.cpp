#include "judge/report_charts.h"

#include <algorithm>

#include "judge/report.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

constexpr int kWidth = 360;
constexpr int kBarStep = 22;
constexpr const char* kBarColor = "#4c78a8";
// Axis texts, rules and labels take the page's text colour, so one drawing serves the light and
// dark themes and print (page.js sets the rest of the theme the same way).
constexpr const char* kInk = "currentColor";

ojson base_spec(ojson values) {
  return {{"width", kWidth}, {"data", {{"values", std::move(values)}}}};
}

ojson bar_value_axis(const std::string& title, bool rate) {
  ojson x = {{"field", "value"}, {"type", "quantitative"}, {"title", title}};
  if (rate) {
    x["scale"] = {{"domain", {0, 1}}};
    x["axis"] = {{"format", ".0%"}};
  }
  return x;
}

ojson label_axis() {
  return {{"field", "label"}, {"type", "nominal"}, {"sort", nullptr}, {"title", nullptr}, {"axis", {{"labelLimit", 220}}}};
}

ojson tooltip(const std::string& value_title) {
  return ojson::array({{{"field", "label"}, {"title", "group"}},
                       {{"field", "value_text"}, {"title", value_title}},
                       {{"field", "ci_text"}, {"title", "95% CI"}},
                       {{"field", "note"}, {"title", "note"}}});
}

}  // namespace

std::string format_rate(double v) { return format_metric_value({"", v, MetricKind::kRate}); }
std::string format_value(double v) { return format_metric_value({"", v, MetricKind::kValue}); }

std::string format_interval(const std::optional<Interval>& iv, bool rate) {
  if (!iv) return "no interval";
  auto f = [&](double x) { return rate ? format_rate(x) : format_value(x); };
  return "95% CI " + f(iv->lo) + " to " + f(iv->hi);
}

Chart interval_bars(std::string id, std::string title, std::string caption, const std::vector<BarRow>& rows,
                    const std::string& value_title, bool rate) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  bool series = false;
  int with_ci = 0;
  std::vector<std::string> seen;
  for (const BarRow& r : rows) {
    series = series || !r.series.empty();
    if (std::find(seen.begin(), seen.end(), r.series) == seen.end()) seen.push_back(r.series);
    with_ci += r.ci.has_value();
    values.push_back({{"label", r.label},
                      {"series", r.series},
                      {"value", r.value},
                      {"lo", r.ci ? ojson(r.ci->lo) : ojson(nullptr)},
                      {"hi", r.ci ? ojson(r.ci->hi) : ojson(nullptr)},
                      {"value_text", rate ? format_rate(r.value) : format_value(r.value)},
                      {"ci_text", format_interval(r.ci, rate)},
                      {"note", r.note}});
  }
  ojson enc_bar = {{"y", label_axis()}, {"x", bar_value_axis(value_title, rate)}, {"tooltip", tooltip(value_title)}};
  ojson enc_rule = {{"y", label_axis()}, {"x", {{"field", "lo"}, {"type", "quantitative"}}}, {"x2", {{"field", "hi"}}}};
  if (series) {
    ojson offset = {{"field", "series"}, {"type", "nominal"}, {"sort", seen}};
    enc_bar["yOffset"] = offset;
    enc_rule["yOffset"] = offset;
    enc_bar["color"] = {{"field", "series"}, {"type", "nominal"}, {"sort", seen}, {"title", nullptr},
                        {"legend", {{"orient", "bottom"}}}};
  } else {
    enc_bar["color"] = {{"value", kBarColor}};
  }
  c.spec = base_spec(std::move(values));
  // With series, the step sizes one bar of a group (Vega-Lite's offset band), not the group.
  c.spec["height"] = series ? ojson{{"step", 12}, {"for", "offset"}} : ojson{{"step", kBarStep}};
  c.spec["layer"] = ojson::array(
      {{{"mark", {{"type", "bar"}}}, {"encoding", enc_bar}},
       {{"transform", ojson::array({{{"filter", {{"field", "lo"}, {"valid", true}}}}})},
        {"mark", {{"type", "rule"}, {"color", kInk}, {"strokeWidth", 1.5}}},
        {"encoding", enc_rule}}});
  c.marks = {{"rect", static_cast<int>(rows.size())}, {"rule", with_ci}};
  return c;
}

Chart count_bars(std::string id, std::string title, std::string caption,
                 const std::vector<std::pair<std::string, double>>& counts, const std::string& value_title,
                 const std::map<std::string, std::string>& colors) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  ojson domain = ojson::array(), range = ojson::array();
  for (const auto& [label, n] : counts) {
    values.push_back({{"label", label}, {"value", n}});
    auto it = colors.find(label);
    domain.push_back(label);
    range.push_back(it == colors.end() ? kBarColor : it->second);
  }
  ojson y = label_axis();
  ojson x = {{"field", "value"}, {"type", "quantitative"}, {"title", value_title}, {"axis", {{"tickMinStep", 1}}}};
  ojson color = {{"field", "label"}, {"type", "nominal"}, {"legend", nullptr}, {"scale", {{"domain", domain}, {"range", range}}}};
  c.spec = base_spec(std::move(values));
  c.spec["height"] = {{"step", kBarStep}};
  c.spec["layer"] = ojson::array(
      {{{"mark", {{"type", "bar"}}},
        {"encoding", {{"y", y}, {"x", x}, {"color", color}, {"tooltip", ojson::array({{{"field", "label"}}, {{"field", "value"}}})}}}},
       {{"mark", {{"type", "text"}, {"align", "left"}, {"dx", 3}, {"color", kInk}}},
        {"encoding", {{"y", y}, {"x", x}, {"text", {{"field", "value"}, {"type", "quantitative"}}}}}}});
  c.marks = {{"rect", static_cast<int>(counts.size())}, {"text", static_cast<int>(counts.size())}};
  return c;
}

Chart heat_map(std::string id, std::string title, std::string caption, const std::vector<Cell>& cells,
               const std::vector<std::string>& x_order, const std::vector<std::string>& y_order,
               const std::string& x_title, const std::string& y_title) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  double max_count = 0;
  for (const Cell& cell : cells) {
    if (cell.count <= 0) continue;
    values.push_back({{"x", cell.x}, {"y", cell.y}, {"count", cell.count}});
    max_count = std::max(max_count, cell.count);
  }
  int n = static_cast<int>(values.size());
  ojson x = {{"field", "x"}, {"type", "ordinal"}, {"title", x_title}, {"scale", {{"domain", x_order}}},
             {"axis", {{"labelAngle", -45}}}};
  ojson y = {{"field", "y"}, {"type", "ordinal"}, {"title", y_title}, {"scale", {{"domain", y_order}}}};
  c.spec = base_spec(std::move(values));
  // Few categories (a confusion matrix) get roomy cells; many (first-error steps) compact ones.
  c.spec["width"] = {{"step", x_order.size() <= 4 ? 64 : 28}};
  c.spec["height"] = {{"step", y_order.size() <= 4 ? 40 : 24}};
  c.spec["layer"] = ojson::array(
      {{{"mark", {{"type", "rect"}}},
        {"encoding",
         {{"x", x}, {"y", y},
          {"color", {{"field", "count"}, {"type", "quantitative"}, {"scale", {{"scheme", "blues"}}}, {"legend", nullptr}}},
          {"tooltip", ojson::array({{{"field", "y"}, {"title", y_title}}, {{"field", "x"}, {"title", x_title}},
                                    {{"field", "count"}}})}}}},
       {{"mark", {{"type", "text"}, {"fontSize", 10}}},
        {"encoding",
         {{"x", x}, {"y", y}, {"text", {{"field", "count"}, {"type", "quantitative"}}},
          {"color", {{"condition", {{"test", "datum.count > " + std::to_string(max_count / 2)}, {"value", "white"}}},
                     {"value", "black"}}}}}}});
  c.marks = {{"rect", n}, {"text", n}};
  return c;
}

Chart histogram(std::string id, std::string title, std::string caption, const std::vector<Bin>& bins,
                const std::string& x_title, const std::string& series_title,
                const std::vector<std::pair<std::string, std::string>>& colors) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  for (const Bin& b : bins)
    if (b.count > 0) values.push_back({{"start", b.start}, {"end", b.end}, {"count", b.count}, {"series", b.series}});
  ojson domain = ojson::array(), range = ojson::array();
  for (const auto& [name, color] : colors) {
    domain.push_back(name);
    range.push_back(color);
  }
  int n = static_cast<int>(values.size());
  c.spec = base_spec(std::move(values));
  c.spec["height"] = 180;
  c.spec["mark"] = {{"type", "bar"}, {"binSpacing", 1}};
  c.spec["encoding"] = {
      // Binned: the bars stand on the axis from start to end (else Vega-Lite reads x..x2 as a range
      // and lays the bars flat).
      {"x", {{"field", "start"}, {"type", "quantitative"}, {"bin", {{"binned", true}}}, {"title", x_title}}},
      {"x2", {{"field", "end"}}},
      {"y", {{"field", "count"}, {"type", "quantitative"}, {"stack", true}, {"title", "judgments"}}},
      {"color", {{"field", "series"}, {"type", "nominal"}, {"title", series_title},
                 {"scale", {{"domain", domain}, {"range", range}}}, {"legend", {{"orient", "bottom"}}}}},
      {"tooltip", ojson::array({{{"field", "start"}, {"title", "from"}}, {{"field", "end"}, {"title", "to"}},
                                {{"field", "series"}, {"title", series_title}}, {{"field", "count"}}})}};
  c.marks = {{"rect", n}};
  return c;
}

Chart reliability(std::string id, std::string title, std::string caption, const std::vector<CalibrationBin>& bins) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  for (const CalibrationBin& b : bins)
    values.push_back({{"confidence", b.confidence}, {"accuracy", b.accuracy}, {"n", b.n}});
  ojson x = {{"field", "confidence"}, {"type", "quantitative"}, {"title", "stated confidence"},
             {"scale", {{"domain", {0, 1}}}}, {"axis", {{"format", ".0%"}}}};
  ojson y = {{"field", "accuracy"}, {"type", "quantitative"}, {"title", "accuracy"},
             {"scale", {{"domain", {0, 1}}}}, {"axis", {{"format", ".0%"}}}};
  c.spec = base_spec(std::move(values));
  c.spec["height"] = kWidth * 2 / 3;
  c.spec["width"] = kWidth * 2 / 3;
  c.spec["layer"] = ojson::array(
      {{{"data", {{"values", ojson::array({ojson::object()})}}},
        {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"color", "#888"}}},
        {"encoding", {{"x", {{"datum", 0}, {"type", "quantitative"}, {"scale", {{"domain", {0, 1}}}}}},
                      {"y", {{"datum", 0}, {"type", "quantitative"}, {"scale", {{"domain", {0, 1}}}}}},
                      {"x2", {{"datum", 1}}}, {"y2", {{"datum", 1}}}}}},
       {{"mark", {{"type", "point"}, {"filled", true}, {"color", kBarColor}}},
        {"encoding", {{"x", x}, {"y", y}, {"size", {{"field", "n"}, {"type", "quantitative"}, {"legend", nullptr}}},
                      {"tooltip", ojson::array({{{"field", "confidence"}, {"format", ".1%"}},
                                                {{"field", "accuracy"}, {"format", ".1%"}}, {{"field", "n"}}})}}}}});
  c.marks = {{"rule", 1}, {"symbol", static_cast<int>(bins.size())}};
  return c;
}

Chart count_scatter(std::string id, std::string title, std::string caption, const std::vector<Point>& points,
                    const std::string& x_title, const std::string& y_title) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  for (const Point& p : points) values.push_back({{"x", p.x}, {"y", p.y}, {"count", p.count}});
  c.spec = base_spec(std::move(values));
  c.spec["height"] = kWidth * 2 / 3;
  c.spec["mark"] = {{"type", "point"}, {"filled", true}, {"color", kBarColor}, {"opacity", 0.8}};
  // Padding keeps the dots on the edges of the range whole.
  ojson scale = {{"zero", false}, {"padding", 12}};
  c.spec["encoding"] = {{"x", {{"field", "x"}, {"type", "quantitative"}, {"title", x_title}, {"scale", scale}}},
                        {"y", {{"field", "y"}, {"type", "quantitative"}, {"title", y_title}, {"scale", scale}}},
                        {"size", {{"field", "count"}, {"type", "quantitative"}, {"legend", nullptr}}},
                        {"tooltip", ojson::array({{{"field", "x"}, {"title", x_title}}, {{"field", "y"}, {"title", y_title}},
                                                  {{"field", "count"}, {"title", "items"}}})}};
  c.marks = {{"symbol", static_cast<int>(points.size())}};
  return c;
}

Chart difference_dots(std::string id, std::string title, std::string caption, const std::vector<BarRow>& rows,
                      const std::string& value_title, bool rate) {
  Chart c{std::move(id), std::move(title), std::move(caption), {}, {}};
  ojson values = ojson::array();
  int with_ci = 0;
  for (const BarRow& r : rows) {
    with_ci += r.ci.has_value();
    values.push_back({{"label", r.label},
                      {"value", r.value},
                      {"lo", r.ci ? ojson(r.ci->lo) : ojson(nullptr)},
                      {"hi", r.ci ? ojson(r.ci->hi) : ojson(nullptr)},
                      {"value_text", rate ? format_rate(r.value) : format_value(r.value)},
                      {"ci_text", format_interval(r.ci, rate)},
                      {"note", r.note}});
  }
  ojson y = label_axis();
  ojson x = {{"field", "value"}, {"type", "quantitative"}, {"title", value_title}};
  if (rate) x["axis"] = {{"format", "+.0%"}};
  c.spec = base_spec(std::move(values));
  c.spec["height"] = {{"step", kBarStep}};
  c.spec["layer"] = ojson::array(
      {{{"data", {{"values", ojson::array({ojson::object()})}}},
        {"mark", {{"type", "rule"}, {"strokeDash", {4, 4}}, {"color", "#888"}}},
        {"encoding", {{"x", {{"datum", 0}, {"type", "quantitative"}}}}}},
       {{"transform", ojson::array({{{"filter", {{"field", "lo"}, {"valid", true}}}}})},
        {"mark", {{"type", "rule"}, {"color", kInk}, {"strokeWidth", 1.5}}},
        {"encoding", {{"y", y}, {"x", {{"field", "lo"}, {"type", "quantitative"}}}, {"x2", {{"field", "hi"}}}}}},
       {{"mark", {{"type", "point"}, {"filled", true}, {"size", 60}, {"color", kBarColor}}},
        {"encoding", {{"y", y}, {"x", x}, {"tooltip", tooltip(value_title)}}}}});
  c.marks = {{"rule", with_ci + 1}, {"symbol", static_cast<int>(rows.size())}};
  return c;
}

ojson chart_to_json(const Chart& c) {
  return {{"id", c.id}, {"title", c.title}, {"caption", c.caption}, {"spec", c.spec}, {"marks", c.marks}};
}

}  // namespace fare::judge
