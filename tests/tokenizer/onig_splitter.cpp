#include "tokenizer/onig_splitter.h"

#include <oniguruma.h>

#include <stdexcept>
#include <string>

namespace fare::test {

struct OnigSplitter::Regex {
  regex_t* regex = nullptr;
  OnigRegion* region = nullptr;
  ~Regex() {
    if (region != nullptr) onig_region_free(region, 1);
    if (regex != nullptr) onig_free(regex);
  }
};

OnigSplitter::OnigSplitter(std::string_view pattern) : regex_(std::make_unique<Regex>()) {
  static const bool initialized = [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    return onig_initialize(encodings, 1) == ONIG_NORMAL;
  }();
  if (!initialized) throw std::runtime_error("oniguruma does not initialise");
  const auto* p = reinterpret_cast<const UChar*>(pattern.data());
  OnigErrorInfo info;
  if (onig_new(&regex_->regex, p, p + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT,
               &info) != ONIG_NORMAL) {
    throw std::runtime_error("oniguruma does not compile " + std::string(pattern));
  }
  regex_->region = onig_region_new();
}

OnigSplitter::~OnigSplitter() = default;

std::vector<std::string_view> OnigSplitter::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  const auto* begin = reinterpret_cast<const UChar*>(text.data());
  const auto* end = begin + text.size();
  OnigRegion* region = regex_->region;
  size_t gap = 0;
  while (gap < text.size()) {
    onig_region_clear(region);
    if (onig_search(regex_->regex, begin, end, begin + gap, end, region, ONIG_OPTION_NONE) < 0) break;
    const auto match_begin = static_cast<size_t>(region->beg[0]);
    const auto match_end = static_cast<size_t>(region->end[0]);
    if (match_begin > gap) pieces.push_back(text.substr(gap, match_begin - gap));
    pieces.push_back(text.substr(match_begin, match_end - match_begin));
    gap = match_end;
  }
  if (gap < text.size()) pieces.push_back(text.substr(gap));
  return pieces;
}

}  // namespace fare::test
