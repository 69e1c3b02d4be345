// The split regexes under PCRE2 (as SplitPretokenizer compiles them) against oniguruma, which is
// what Hugging Face's `tokenizers` runs them with. Every code point goes through both engines in
// several contexts, then random strings of the characters where engines disagree most easily.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "tokenizer/onig_splitter.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

using Pieces = std::vector<std::string_view>;

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

Pieces pcre2_split(const SplitPretokenizer& pretok, std::string_view text) {
  Pieces pieces;
  pretok.split(text, pieces);
  return pieces;
}

std::string hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += cat(std::hex, static_cast<int>(c), " ");
  return out;
}

// The first piece where the two splits part, for the failure message.
std::string first_difference(const Pieces& a, const Pieces& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const auto at = [&](const Pieces& p) { return i < p.size() ? hex(p[i]) : std::string("(end)"); };
  return cat("piece ", i, ": PCRE2 [", at(a), "] oniguruma [", at(b), "]");
}

class SplitRegexOracle : public testing::TestWithParam<std::string_view> {};

// Each code point between the same prefix and suffix, in chunks that keep failures readable.
TEST_P(SplitRegexOracle, EveryCodePointInContext) {
  const SplitPretokenizer pretok(GetParam());
  const test::OnigSplitter onig(GetParam());
  const std::pair<const char*, const char*> contexts[] = {
      {"", ""}, {"a", "b"}, {"A", "'S"}, {" ", "1"}, {"x'", "\n"}, {"\u00e9", " \t"}, {"1", "/"}};
  int n_bad_chunks = 0;
  for (const auto& [prefix, suffix] : contexts) {
    for (char32_t first = 0; first <= 0x10FFFF; first += 0x1000) {
      std::string text;
      for (char32_t cp = first; cp < first + 0x1000; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        text += prefix + utf8(cp) + suffix;
      }
      const Pieces ours = pcre2_split(pretok, text);
      const Pieces theirs = onig.split(text);
      if (ours != theirs && ++n_bad_chunks <= 5) {
        ADD_FAILURE() << "code points from U+" << std::hex << static_cast<uint32_t>(first) << " between '" << prefix
                      << "' and '" << suffix << "': " << first_difference(ours, theirs);
      }
    }
  }
  EXPECT_EQ(n_bad_chunks, 0);
}

TEST_P(SplitRegexOracle, RandomStrings) {
  const SplitPretokenizer pretok(GetParam());
  const test::OnigSplitter onig(GetParam());
  // Letters of every case, contraction letters, marks, digits of several kinds, white space
  // inside and outside \s, and characters whose case folding or category is unusual.
  const std::vector<char32_t> pool = {
      'a', 'Z', 's', 'S', 't', 'T', 'r', 'e', 'v', 'm', 'l', 'L', 'd', 'D', '\'', '\'', ' ', ' ', '\t', '\n', '\r',
      '/', '.', '!', '1', '2', '0', 0x017F, 0x212A, 0x00A0, 0x0085, 0xFEFF, 0x180E, 0x2028, 0x3000, 0x0301, 0x0308,
      0x01C5, 0x02B0, 0x4E2D, 0x0660, 0x2460, 0x00BD, 0x2019, 0x200B, 0x1F600, 0x1F3FD, 0x200D, 0x0915, 0x094D,
      0x0E2A, 0x05B8, 0xFF11, 0xFF21, 0x0130, 0x0131, 0x00DF, 0x1E9E, 0x000B, 0x000C, 0x2029};
  std::mt19937 rng(20250807);
  int n_bad = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string text;
    for (int n = 1 + static_cast<int>(rng() % 12); n > 0; --n) text += utf8(pool[rng() % pool.size()]);
    const Pieces ours = pcre2_split(pretok, text);
    const Pieces theirs = onig.split(text);
    if (ours != theirs && ++n_bad <= 5) ADD_FAILURE() << "text [" << hex(text) << "]: " << first_difference(ours, theirs);
  }
  EXPECT_EQ(n_bad, 0);
}

// The golden texts themselves (the Qwen3 ones and gpt-oss's, when installed) split alike.
TEST_P(SplitRegexOracle, GoldenTexts) {
  const SplitPretokenizer pretok(GetParam());
  const test::OnigSplitter onig(GetParam());
  std::vector<std::string> files = {test::fixture("tokenizer/golden.jsonl"), test::gptoss_dir() + "/golden.jsonl"};
  for (const std::string& file : files) {
    for (const auto& line : test::read_jsonl(file)) {
      const std::string text = line["text"];
      EXPECT_EQ(pcre2_split(pretok, text), onig.split(text)) << file << ": " << text.substr(0, 60);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Patterns, SplitRegexOracle, testing::Values(kQwen2SplitPattern, kO200kSplitPattern),
                         [](const testing::TestParamInfo<std::string_view>& param) {
                           return std::string(split_pattern_name(param.param) == "qwen2" ? "Qwen2" : "O200k");
                         });

}  // namespace
}  // namespace fare
