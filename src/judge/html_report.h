// The HTML report: one file that opens offline. The chart libraries, the page's script and style
// and the report's data are all inline; a Content-Security-Policy forbids the page any request.
// Every text from results and items is escaped (HTML text, attributes, and JSON inside <script>).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "judge/report_run.h"
#include "judge/report_stats.h"

namespace fare::judge {

struct ReportOptions {
  BootstrapOptions bootstrap;
  size_t examples_per_kind = 5;  // failure examples shown per kind
};

std::string run_report_html(const RunData& run, const ReportOptions& opts);
// Runs `a` and `b` on the same items; throws fare::Error when they cannot be compared.
std::string comparison_report_html(const RunData& a, const RunData& b, const ReportOptions& opts);

// Written through a temporary file and renamed, so a reader never sees half a report.
void write_report(const std::string& path, const std::string& html);

// & < > " ' as entities: safe in text and in quoted attributes.
std::string html_escape(std::string_view text);
// JSON that cannot end or comment out the <script> element holding it: < > & and the line
// separators U+2028/9 are written as \u escapes.
std::string script_json(const nlohmann::ordered_json& value);
// Script text with "</script" and "<!--" made inert (the page's own code and the libraries).
std::string script_text(std::string_view js);

}  // namespace fare::judge
