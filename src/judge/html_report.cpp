#include "judge/html_report.h"

#include <cctype>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "judge/report_assets.h"
#include "judge/report_compare.h"
#include "judge/report_items.h"
#include "judge/report_sections.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

// Nothing may leave the page: no fetch, image, font or frame from anywhere. Vega runs its
// expressions with the interpreter (page.js asks vega-embed for it), so no eval is needed either.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:";

using Facts = std::vector<std::pair<std::string, std::string>>;

std::string tile_html(const Tile& t) {
  return cat("<div class=\"tile\"><div class=\"tile-label\">", html_escape(t.label), "</div><div class=\"tile-value\">",
             html_escape(t.value), "</div><div class=\"tile-note\">", html_escape(t.note), "</div></div>\n");
}

// A cell's first line is its value; a second line (an interval) is set smaller below it.
std::string cell_html(const std::string& text) {
  size_t nl = text.find('\n');
  if (nl == std::string::npos) return html_escape(text);
  return html_escape(text.substr(0, nl)) + "<br><small>" + html_escape(text.substr(nl + 1)) + "</small>";
}

std::string table_html(const Table& t) {
  std::string s = "<div class=\"table-wrap\"><table><thead><tr>";
  for (const std::string& h : t.header) s += "<th>" + html_escape(h) + "</th>";
  s += "</tr></thead><tbody>\n";
  for (const auto& row : t.rows) {
    s += "<tr>";
    for (size_t k = 0; k < row.size(); ++k) s += (k == 0 ? "<th>" : "<td>") + cell_html(row[k]) + (k == 0 ? "</th>" : "</td>");
    s += "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

std::string chart_html(const Chart& c) {
  return cat("<figure class=\"chart-figure\"><h3>", html_escape(c.title), "</h3><div class=\"chart\" id=\"",
             html_escape(c.id), "\"></div><figcaption>", html_escape(c.caption), "</figcaption></figure>\n");
}

std::string section_html(const Section& s) {
  std::string h = cat("<section id=\"", html_escape(s.id), "\"><h2>", html_escape(s.title), "</h2>\n");
  if (!s.note.empty()) h += "<p class=\"note\">" + html_escape(s.note) + "</p>\n";
  if (!s.tiles.empty()) {
    h += "<div class=\"tiles\">\n";
    for (const Tile& t : s.tiles) h += tile_html(t);
    h += "</div>\n";
  }
  if (!s.charts.empty()) {
    h += "<div class=\"charts\">\n";
    for (const Chart& c : s.charts) h += chart_html(c);
    h += "</div>\n";
  }
  for (const Table& t : s.tables) h += table_html(t);
  return h + "</section>\n";
}

std::string facts_html(const Facts& facts) {
  std::string s = "<dl class=\"facts\">";
  for (const auto& [k, v] : facts) s += "<dt>" + html_escape(k) + "</dt><dd>" + html_escape(v) + "</dd>";
  return s + "</dl>\n";
}

std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + text_of(x);
    return s;
  }
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Facts run_facts(const RunData& run) {
  Facts f = {{"model", run.model_id}};
  if (!run.model_family.empty()) f.emplace_back("model family", run.model_family);
  f.emplace_back("task", std::string(task_name(run.task)));
  const nlohmann::json& s = run.summary;
  auto add = [&](const std::string& name, const char* key) {
    if (!s.is_null() && s.contains(key)) f.emplace_back(name, text_of(s.at(key)));
  };
  add("dataset", "dataset");
  add("inputs", "inputs");
  f.emplace_back("results", run.results_path);
  f.emplace_back("summary", run.summary_path.empty() ? "none found" : run.summary_path);
  f.emplace_back("template hash", run.template_hash);
  if (!s.is_null() && s.contains("config")) {
    const nlohmann::json& c = s.at("config");
    for (const char* k : {"think", "reasoning_effort", "samples", "swap", "top_logprobs"})
      if (c.contains(k) && !c.at(k).is_null()) f.emplace_back(k, text_of(c.at(k)));
    if (c.contains("generation")) f.emplace_back("generation", text_of(c.at("generation")));
  }
  add("complete", "complete");
  add("finished at", "finished_at");
  if (!run.have_texts) f.emplace_back("item texts", "not shown: " + run.texts_note);
  return f;
}

std::string page_html(const std::string& title, const Facts& facts, const std::vector<Section>& sections,
                      const std::string& item_sections, const ojson& data, const BootstrapOptions& bootstrap) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += cat("<meta http-equiv=\"Content-Security-Policy\" content=\"", kContentSecurityPolicy, "\">\n");
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<meta name=\"color-scheme\" content=\"light dark\">\n";
  h += "<title>" + html_escape(title) + "</title>\n<style>\n" + std::string(kPageCss) + "</style>\n</head>\n<body>\n";
  h += "<header><h1>" + html_escape(title) + "</h1>\n" + facts_html(facts) + "<nav>";
  for (const Section& s : sections) h += "<a href=\"#" + html_escape(s.id) + "\">" + html_escape(s.title) + "</a> ";
  h += "<a href=\"#items\">Items</a></nav></header>\n<main>\n";
  for (const Section& s : sections) h += section_html(s);
  h += item_sections + "</main>\n";
  h += cat("<footer>Made by fare report. Intervals: ", bootstrap.resamples, " bootstrap resamples, seed ",
           bootstrap.seed, ". Charts drawn with Vega ", kVegaVersion, ", Vega-Lite ", kVegaLiteVersion,
           " and vega-embed ", kVegaEmbedVersion, " (BSD-3-Clause), included in this file.</footer>\n");
  h += "<script type=\"application/json\" id=\"report-data\">" + script_json(data) + "</script>\n";
  for (std::string_view js : {kVegaJs, kVegaLiteJs, kVegaEmbedJs, kPageJs}) h += "<script>" + script_text(js) + "</script>\n";
  return h + "</body>\n</html>\n";
}

std::string search_section() {
  return "<section id=\"items\"><h2>Items</h2>\n"
         "<input type=\"search\" id=\"search\" placeholder=\"Search ids, status, questions, answers and judge outputs\" "
         "aria-label=\"Search items\">\n<p class=\"note\" id=\"search-count\"></p>\n<div id=\"search-results\"></div>\n"
         "</section>\n";
}

ojson charts_json(const std::vector<Section>& sections) {
  ojson charts = ojson::array();
  for (const Section& s : sections)
    for (const Chart& c : s.charts) charts.push_back(chart_to_json(c));
  return charts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string script_json(const ojson& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else if (c == '\xE2' && i + 2 < text.size() && text[i + 1] == '\x80' && (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
      out += text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string script_text(std::string_view js) {
  // Inside a script element the HTML parser looks only for these two; in JavaScript "<\/" and
  // "<\!" read as "</" and "<!" in strings, regular expressions and templates alike.
  const std::string low = lower(js);
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (low.compare(i, 8, "</script") == 0) {
      out += "<\\/";
      ++i;
    } else if (low.compare(i, 4, "<!--") == 0) {
      out += "<\\!";
      ++i;
    } else {
      out += js[i];
    }
  }
  return out;
}

std::string run_report_html(const RunData& run, const ReportOptions& opts) {
  MetricIntervals intervals = bootstrap_metrics(run.task, run.outcomes, run.swap, opts.bootstrap);
  SectionContext ctx{run, intervals, opts.bootstrap};
  std::vector<Section> sections = run_sections(ctx);
  ojson items = ojson::array();
  for (size_t i = 0; i < run.items.size(); ++i) items.push_back(item_record(run, i));
  ojson data = {{"kind", "run"},
                {"task", task_name(run.task)},
                {"metrics", metrics_to_json(run.metrics)},
                {"judgments", counts_to_json(run.counts)},
                {"charts", charts_json(sections)},
                {"examples", failure_examples(run, opts.examples_per_kind)},
                {"items", std::move(items)}};
  std::string examples =
      "<section id=\"examples\"><h2>Examples of failures</h2>\n<p class=\"note\">A few items of each kind: the question "
      "and answers fold out, the judge's whole output is shown with the line its verdict was read from marked.</p>\n"
      "<div id=\"examples-root\"></div>\n</section>\n";
  std::string title = cat("fare report: ", run.model_id, ", ", task_name(run.task));
  if (!run.summary.is_null() && run.summary.contains("dataset")) title += ", " + text_of(run.summary.at("dataset"));
  return page_html(title, run_facts(run), sections, examples + search_section(), data, opts.bootstrap);
}

std::string comparison_report_html(const RunData& a, const RunData& b, const ReportOptions& opts) {
  Comparison c = compare_runs(a, b, opts.bootstrap);
  std::vector<Section> sections = comparison_sections(a, b, c);
  ojson items = ojson::array(), disagreements = ojson::array();
  for (size_t k = 0; k < c.index_a.size(); ++k) {
    ojson r = item_record(a, c.index_a[k], "A");
    ojson rb = item_record(b, c.index_b[k], "B");
    r["decision"] = "A: " + r["decision"].get<std::string>() + "; B: " + rb["decision"].get<std::string>();
    r["status"] = "A: " + r["status"].get<std::string>() + "; B: " + rb["status"].get<std::string>();
    for (auto& j : rb["judgments"]) r["judgments"].push_back(std::move(j));
    items.push_back(std::move(r));
  }
  for (size_t k : c.disagreements) disagreements.push_back(a.items[c.index_a[k]].id);
  ojson data = {{"kind", "comparison"},
                {"task", task_name(a.task)},
                {"metrics", {{"a", metrics_to_json(a.metrics)}, {"b", metrics_to_json(b.metrics)},
                             {"a_shared", metrics_to_json(c.metrics_a)}, {"b_shared", metrics_to_json(c.metrics_b)}}},
                {"charts", charts_json(sections)},
                {"examples", ojson::array({{{"kind", "decided differently"}, {"count", disagreements.size()},
                                            {"ids", disagreements}}})},
                {"items", std::move(items)}};
  std::string list =
      "<section id=\"examples\"><h2>Items decided differently</h2>\n<p class=\"note\">Every shared item on which the "
      "runs' decisions differ, with both runs' outputs.</p>\n<div id=\"examples-root\"></div>\n</section>\n";
  Facts facts = {{"A", a.results_path + " (" + a.model_id + ")"}, {"B", b.results_path + " (" + b.model_id + ")"},
                 {"task", std::string(task_name(a.task))}, {"shared items", std::to_string(c.index_a.size())}};
  std::string title = cat("fare report: ", a.model_id, " against ", b.model_id, ", ", task_name(a.task));
  return page_html(title, facts, sections, list + search_section(), data, opts.bootstrap);
}

void write_report(const std::string& path, const std::string& html) {
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir.string(), ": cannot create the report's folder: ", ec.message());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(tmp, ": cannot write the report");
    out << html;
    if (!out) fail(tmp, ": write failed");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail(path, ": cannot replace the report: ", ec.message());
}

}  // namespace fare::judge
