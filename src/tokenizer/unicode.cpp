#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>

#include "common/error.h"

namespace fare::unicode {
namespace {

// Allowed range of the second byte for each lead byte (later bytes are always 80..BF).
struct LeadInfo {
  int n_cont = -1;  // continuation bytes, -1 for a byte that cannot start a character
  uint8_t lo = 0x80;
  uint8_t hi = 0xBF;
};

LeadInfo lead_info(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return {1, 0x80, 0xBF};
  if (b == 0xE0) return {2, 0xA0, 0xBF};  // no overlongs
  if (b == 0xED) return {2, 0x80, 0x9F};  // no surrogates
  if (b >= 0xE1 && b <= 0xEF) return {2, 0x80, 0xBF};
  if (b == 0xF0) return {3, 0x90, 0xBF};  // no overlongs
  if (b >= 0xF1 && b <= 0xF3) return {3, 0x80, 0xBF};
  if (b == 0xF4) return {3, 0x80, 0x8F};  // nothing above U+10FFFF
  return {};
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

void append_nfc_valid(std::string& out, std::string_view s) {
  if (is_ascii(s)) {  // NFC never changes ASCII; this is the common case
    out.append(s);
    return;
  }
  utf8proc_uint8_t* dst = nullptr;
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                    static_cast<utf8proc_ssize_t>(s.size()), &dst, options);
  if (n < 0) {
    // utf8proc rejects only invalid input or out-of-memory; the input was validated, so keep
    // the text unnormalised rather than fail a whole request.
    out.append(s);
    return;
  }
  out.append(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
  std::free(dst);
}

}  // namespace

Sequence next_sequence(std::string_view s, size_t pos) {
  FARE_CHECK(pos < s.size());
  const auto b0 = static_cast<uint8_t>(s[pos]);
  if (b0 < 0x80) return {SeqKind::kValid, 1, b0};
  const LeadInfo info = lead_info(b0);
  if (info.n_cont < 0) return {SeqKind::kInvalid, 1, 0};
  char32_t cp = b0 & (0x3F >> info.n_cont);
  for (int k = 1; k <= info.n_cont; ++k) {
    if (pos + k >= s.size()) return {SeqKind::kIncomplete, s.size() - pos, 0};
    const auto b = static_cast<uint8_t>(s[pos + k]);
    const uint8_t lo = k == 1 ? info.lo : 0x80;
    const uint8_t hi = k == 1 ? info.hi : 0xBF;
    if (b < lo || b > hi) return {SeqKind::kInvalid, static_cast<size_t>(k), 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {SeqKind::kValid, static_cast<size_t>(info.n_cont + 1), cp};
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Sequence seq = next_sequence(s, i);
    if (seq.kind != SeqKind::kValid) return false;
    i += seq.len;
  }
  return true;
}

bool is_white_space(char32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85) return true;
  if (cp < 0x80) return false;
  const utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

long code_point_before(std::string_view s, size_t end, size_t* start) {
  FARE_CHECK(end > 0 && end <= s.size());
  size_t begin = end - 1;
  // A character is at most 4 bytes: step back over at most 3 continuation bytes.
  while (begin > 0 && end - begin < 4 && (static_cast<uint8_t>(s[begin]) & 0xC0) == 0x80) --begin;
  const Sequence seq = next_sequence(s, begin);
  if (seq.kind != SeqKind::kValid || begin + seq.len != end) return -1;
  *start = begin;
  return static_cast<long>(seq.cp);
}

std::string nfc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t run_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    const Sequence seq = next_sequence(s, i);
    if (seq.kind == SeqKind::kValid) {
      i += seq.len;
      continue;
    }
    append_nfc_valid(out, s.substr(run_start, i - run_start));
    out.append(s.substr(i, seq.len));
    i += seq.len;
    run_start = i;
  }
  append_nfc_valid(out, s.substr(run_start));
  return out;
}

}  // namespace fare::unicode
