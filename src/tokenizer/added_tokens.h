// Added tokens ("<|im_start|>", "<think>") are found in the raw text before normalisation and
// pre-tokenisation, as Hugging Face does: scanning left to right, the longest token that starts
// at the earliest position wins, and lstrip/rstrip tokens swallow the white space beside them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace fare {

struct TextSegment {
  std::string_view text;  // ordinary text when id < 0
  int32_t id = -1;        // an added token
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(const std::vector<AddedToken>& added);

  // Splits `text` into ordinary text and added tokens; special tokens only when parse_special.
  // No token is matched that overlaps a `literal` span (ascending, disjoint, within text), and
  // lstrip/rstrip never swallow white space from one. Empty text segments are left out.
  void split(std::string_view text, bool parse_special, std::span<const TextSpan> literal,
             std::vector<TextSegment>& out) const;

 private:
  struct Entry {
    std::string_view content;  // points into the AddedToken held by the Tokenizer's spec
    int32_t id;
    bool special;
    bool lstrip;
    bool rstrip;
  };
  // The longest usable token starting at text[pos], or nullptr.
  const Entry* match_at(std::string_view text, size_t pos, bool parse_special) const;

  // By first byte, longest content first.
  std::vector<std::vector<Entry>> by_first_byte_ = std::vector<std::vector<Entry>>(256);
};

}  // namespace fare
