// The split regexes, piece by piece. Expected pieces are oniguruma's, the regex engine of Hugging
// Face's `tokenizers`.
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
    SplitPretokenizer bad("(\\p{L}");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("does not compile at offset"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(\\p{L}"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace fare
