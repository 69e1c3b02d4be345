// The report page's scripts and style, compiled into the program from report/ (the page's own
// files) and report/node_modules (the chart libraries, pinned in report/package-lock.json), so
// that writing a report needs nothing at run time. Generated at build time by
// report/embed_assets.cmake.
#pragma once

#include <string_view>

namespace fare::judge {

extern const std::string_view kVegaJs;
extern const std::string_view kVegaLiteJs;
extern const std::string_view kVegaEmbedJs;
extern const std::string_view kPageJs;
extern const std::string_view kPageCss;

extern const std::string_view kVegaVersion;
extern const std::string_view kVegaLiteVersion;
extern const std::string_view kVegaEmbedVersion;

}  // namespace fare::judge
