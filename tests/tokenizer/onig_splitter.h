// Hugging Face's Split(Isolated) pre-tokenizer run with oniguruma, the regex engine of its
// `tokenizers` library (the onig crate: oniguruma 6.9.8, default syntax, UTF-8): the oracle for
// what PCRE2 must match. Kept apart from the tests because oniguruma.h and the POSIX <regex.h>
// that GoogleTest includes both define struct re_registers.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace fare::test {

class OnigSplitter {
 public:
  explicit OnigSplitter(std::string_view pattern);  // throws std::runtime_error if it does not compile
  ~OnigSplitter();
  OnigSplitter(const OnigSplitter&) = delete;
  OnigSplitter& operator=(const OnigSplitter&) = delete;

  // The matches and the gaps between them, in order. (The split patterns never match the empty
  // string, so no empty-match stepping is needed.)
  std::vector<std::string_view> split(std::string_view text) const;

 private:
  struct Regex;
  std::unique_ptr<Regex> regex_;
};

}  // namespace fare::test
