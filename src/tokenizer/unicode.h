// The few Unicode services the tokenizer needs, on top of utf8proc: strict UTF-8 decoding (so
// stream decoding and added-token stripping agree on what a character is), NFC and White_Space.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fare::unicode {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

enum class SeqKind {
  kValid,       // a well-formed character of `len` bytes
  kIncomplete,  // the text ends inside what is so far a well-formed character
  kInvalid,     // `len` bytes that can never be part of a character: one U+FFFD replaces them
};

struct Sequence {
  SeqKind kind = SeqKind::kValid;
  size_t len = 1;
  char32_t cp = 0;  // only for kValid
};

// Classifies the bytes at s[pos] by the rules of RFC 3629 (no overlongs, no surrogates, nothing
// above U+10FFFF). An invalid sequence is its "maximal subpart", as Unicode recommends for
// replacement, so decoders agree on how many U+FFFD a broken byte run becomes.
Sequence next_sequence(std::string_view s, size_t pos);

bool is_valid_utf8(std::string_view s);

// Unicode White_Space (Rust's char::is_whitespace, which Hugging Face uses for lstrip/rstrip).
bool is_white_space(char32_t cp);

// The code point that ends just before s[end] (end > 0), or a negative value when the byte
// before `end` does not end a well-formed character. `start` receives its first byte.
long code_point_before(std::string_view s, size_t end, size_t* start);

// NFC. Invalid UTF-8 cannot be normalised: maximal valid runs are normalised and the invalid
// bytes between them are kept as they are.
std::string nfc(std::string_view s);

}  // namespace fare::unicode
