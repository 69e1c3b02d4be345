// The split regexes, piece by piece. Expected pieces are oniguruma's, the regex engine of Hugging
// Face's `tokenizers` (split_regex_oracle_test compares the two engines on every code point).
#include <gtest/gtest.h>

#include "common/error.h"
#include "tokenizer/pretokenizer.h"

namespace fare {
namespace {

using Pieces = std::vector<std::string>;

Pieces split(std::string_view pattern, std::string_view text) {
  const SplitPretokenizer pretok(pattern);
  std::vector<std::string_view> views;
  pretok.split(text, views);
  return Pieces(views.begin(), views.end());
}

TEST(SplitRegex, O200kWordsContractionsAndDigitGroups) {
  // A word ends where lower case turns to upper case; an upper-case run keeps the lower-case
  // letters that follow it; a contraction of any case ends the word it follows.
  EXPECT_EQ(split(kO200kSplitPattern, "HTTPServer camelCase DON'T I'M"),
            (Pieces{"HTTPServer", " camel", "Case", " DON'T", " I'M"}));
  EXPECT_EQ(split(kO200kSplitPattern, "1234567 12"), (Pieces{"123", "456", "7", " ", "12"}));
  EXPECT_EQ(split(kO200kSplitPattern, " path/to/\n"), (Pieces{" path", "/to", "/\n"}));
  // Combining marks (\p{M}) belong to the word, on either side of the case change.
  EXPECT_EQ(split(kO200kSplitPattern, "cafe\u0301 A\u0301BC"), (Pieces{"cafe\u0301", " A\u0301", "BC"}));
  EXPECT_EQ(split(kO200kSplitPattern, "x  y\n\n z"), (Pieces{"x", " ", " y", "\n\n", " z"}));
}

TEST(SplitRegex, Qwen2SplitsTheSameTextsDifferently) {
  EXPECT_EQ(split(kQwen2SplitPattern, "HTTPServer camelCase DON'T I'M"),
            (Pieces{"HTTPServer", " camelCase", " DON", "'T", " I", "'M"}));
  EXPECT_EQ(split(kQwen2SplitPattern, "1234567 12"), (Pieces{"1", "2", "3", "4", "5", "6", "7", " ", "1", "2"}));
}

// Where Hugging Face's engine and a plain PCRE2 \s or a JavaScript port differ.
TEST(SplitRegex, CaseFoldingAndWhiteSpaceFollowOniguruma) {
  // (?i) folds the long s (U+017F) to 's', as oniguruma and PCRE2 both do (JavaScript's
  // transformers.js spells the group as [sS] and would not).
  EXPECT_EQ(split(kO200kSplitPattern, "IT'\u017f"), (Pieces{"IT'\u017f"}));
  EXPECT_EQ(split(kQwen2SplitPattern, "IT'\u017f"), (Pieces{"IT", "'\u017f"}));
  // U+180E has not been white space since Unicode 6.3: oniguruma's \s leaves it out, PCRE2's
  // \s still takes it, hence the rewrite to \p{White_Space}.
  for (std::string_view pattern : {kO200kSplitPattern, kQwen2SplitPattern}) {
    EXPECT_EQ(split(pattern, "a\u180eb"), (Pieces{"a", "\u180eb"}));
    // NEL (U+0085) is white space; the byte order mark is not.
    EXPECT_EQ(split(pattern, "a\u0085\u0085b"), (Pieces{"a", "\u0085", "\u0085b"}));
    EXPECT_EQ(split(pattern, "a\ufeffb"), (Pieces{"a", "\ufeffb"}));
  }
}

TEST(SplitRegex, WhiteSpaceRewriteKeepsOtherEscapes) {
  EXPECT_EQ(with_onig_white_space(R"(\s+(?!\S))"), R"(\p{White_Space}+(?!\P{White_Space}))");
  EXPECT_EQ(with_onig_white_space(R"([^\s\p{L}])"), R"([^\p{White_Space}\p{L}])");
  EXPECT_EQ(with_onig_white_space(R"(\\s)"), R"(\\s)");  // an escaped backslash, then 's'
  EXPECT_EQ(with_onig_white_space(R"(\Q\s\E\s)"), R"(\Q\s\E\p{White_Space})");
  EXPECT_EQ(with_onig_white_space(R"(a\)"), R"(a\)");
}

TEST(SplitRegex, PatternsByLlamaCppName) {
  EXPECT_EQ(split_pattern_by_name("qwen2"), kQwen2SplitPattern);
  EXPECT_EQ(split_pattern_by_name("gpt-4o"), kO200kSplitPattern);
  EXPECT_FALSE(split_pattern_by_name("llama3").has_value());
  EXPECT_EQ(split_pattern_name(kO200kSplitPattern), "gpt-4o");
  EXPECT_EQ(split_pattern_name(kQwen2SplitPattern), "qwen2");
  EXPECT_EQ(split_pattern_name(R"(\p{L}+)"), "");
}

TEST(SplitRegex, CompileErrorNamesTheOffset) {
  try {
    SplitPretokenizer bad("(\\s");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not compile at offset"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(\\p{White_Space}"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace fare
