#include "tokenizer/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <utility>

#include "common/error.h"

namespace fare {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return cat("PCRE2 error ", code);
  return reinterpret_cast<const char*>(buf);
}

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

// Start of the character after the one at `pos` (or pos + 1 inside invalid bytes).
size_t next_char(std::string_view s, size_t pos) {
  ++pos;
  while (pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80) ++pos;
  return pos;
}

struct NamedPattern {
  std::string_view name;  // llama.cpp's
  std::string_view pattern;
};
constexpr NamedPattern kNamedPatterns[] = {{"qwen2", kQwen2SplitPattern}, {"gpt-4o", kO200kSplitPattern}};

}  // namespace

std::optional<std::string_view> split_pattern_by_name(std::string_view name) {
  for (const NamedPattern& p : kNamedPatterns) {
    if (p.name == name) return p.pattern;
  }
  return std::nullopt;
}

std::string_view split_pattern_name(std::string_view pattern) {
  for (const NamedPattern& p : kNamedPatterns) {
    if (p.pattern == pattern) return p.name;
  }
  return {};
}

std::string with_onig_white_space(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '\\' || i + 1 == pattern.size()) {
      out += pattern[i++];
      continue;
    }
    const char escaped = pattern[i + 1];
    if (escaped == 's' || escaped == 'S') {
      out += escaped == 's' ? "\\p{White_Space}" : "\\P{White_Space}";
      i += 2;
    } else if (escaped == 'Q') {  // quoted text runs to \E (or the end) and means itself
      const size_t end = pattern.find("\\E", i + 2);
      const size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
      out.append(pattern.substr(i, stop - i));
      i = stop;
    } else {  // any other escape pair, "\\" included, is copied whole
      out.append(pattern.substr(i, 2));
      i += 2;
    }
  }
  return out;
}

SplitPretokenizer::SplitPretokenizer(std::string_view pattern) {
  // MATCH_INVALID_UTF: arbitrary bytes can be tokenised; invalid sequences simply never match.
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF;
  const std::string compiled = with_onig_white_space(pattern);
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(compiled.data()), compiled.size(), options, &err, &err_offset,
                        nullptr);
  if (code_ == nullptr) {
    fail("pre-tokenizer regex does not compile at offset ", err_offset, ": ", pcre2_message(err),
         " (pattern as compiled: ", compiled, ")");
  }
  // The JIT is several times faster; without it (unsupported CPU) the interpreter is correct.
  pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
}

SplitPretokenizer::~SplitPretokenizer() { pcre2_code_free(code_); }

SplitPretokenizer::SplitPretokenizer(SplitPretokenizer&& other) noexcept : code_(std::exchange(other.code_, nullptr)) {}

SplitPretokenizer& SplitPretokenizer::operator=(SplitPretokenizer&& other) noexcept {
  if (this != &other) {
    pcre2_code_free(code_);
    code_ = std::exchange(other.code_, nullptr);
  }
  return *this;
}

void SplitPretokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
  FARE_CHECK(code_ != nullptr, "use of a moved-from pre-tokenizer");
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(pcre2_match_data_create_from_pattern(code_, nullptr));
  FARE_CHECK(md != nullptr, "out of memory");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t gap_start = 0;
  size_t offset = 0;
  while (offset < text.size()) {
    const int rc = pcre2_match(code_, subject, text.size(), offset, 0, md.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("pre-tokenizer regex failed at byte ", offset, ": ", pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    const size_t begin = ov[0];
    const size_t end = ov[1];
    if (begin > gap_start) pieces.push_back(text.substr(gap_start, begin - gap_start));
    if (end > begin) {
      pieces.push_back(text.substr(begin, end - begin));
      gap_start = end;
      offset = end;
    } else {
      // An empty match cuts nothing; step over one character so the search moves on.
      gap_start = begin;
      offset = next_char(text, begin);
    }
  }
  if (gap_start < text.size()) pieces.push_back(text.substr(gap_start));
}

}  // namespace fare
