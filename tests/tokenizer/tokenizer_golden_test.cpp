// Text -> ids against the Hugging Face goldens (fixtures/README.md section 1).
#include <gtest/gtest.h>

#include <chrono>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"
#include "tokenizer/unicode.h"

namespace fare {
namespace {

using test::fixture;
using test::ids_of;
using test::read_jsonl;

TEST(TokenizerGolden, EveryLineEncodesToHfIds) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const auto lines = read_jsonl(fixture("tokenizer/golden.jsonl"));
  ASSERT_EQ(lines.size(), 140u);
  int n_ok = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string text = lines[i]["text"];
    SCOPED_TRACE(testing::Message() << "golden.jsonl line " << i + 1 << " (" << lines[i]["note"] << ")");
    const std::vector<int32_t> ids = tok.encode(text, /*parse_special=*/true);
    EXPECT_EQ(ids, ids_of(lines[i]["ids_hf"]));
    n_ok += ids == ids_of(lines[i]["ids_hf"]);
  }
  EXPECT_EQ(n_ok, 140);
}

// Decoding gives back the text as the normaliser left it: NFC(text), byte for byte. For the
// 131 lines that are already NFC that is the text itself.
TEST(TokenizerGolden, EveryLineDecodesToNfcText) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  int n_identity = 0;
  for (const auto& line : read_jsonl(fixture("tokenizer/golden.jsonl"))) {
    const std::string text = line["text"];
    SCOPED_TRACE(text.substr(0, 60));
    const std::string nfc = unicode::nfc(text);
    n_identity += nfc == text;
    EXPECT_EQ(tok.decode(ids_of(line["ids_hf"])), nfc);
  }
  EXPECT_EQ(n_identity, 132);
}

TEST(TokenizerGolden, MicroVocabularyMatchesItsCheckFile) {
  const Tokenizer& tok = test::micro_tokenizer();
  const auto lines = read_jsonl(fixture("micro-qwen3/tokenizer/check.jsonl"));
  ASSERT_EQ(lines.size(), 22u);  // 15 strings, then each chat special token alone
  for (const auto& line : lines) {
    const std::string text = line["text"];
    SCOPED_TRACE(text.substr(0, 60));
    EXPECT_EQ(tok.encode(text, true), ids_of(line["ids_hf"]));
    if (line.contains("expected")) {
      EXPECT_EQ(ids_of(line["ids_hf"]), ids_of(line["expected"]));
    }
    EXPECT_EQ(tok.decode(ids_of(line["ids_hf"])), unicode::nfc(text));
  }
}

TEST(TokenizerGolden, SpecialIdsComeFromTokenizerConfig) {
  const TokenizerSpec& q = test::qwen3_tokenizer().spec();
  EXPECT_FALSE(q.bos.has_value());  // "bos_token": null
  EXPECT_EQ(q.eos, 151645);         // <|im_end|>
  EXPECT_EQ(q.pad, 151643);         // <|endoftext|>
  EXPECT_EQ(test::qwen3_tokenizer().n_vocab(), 151669);
  const TokenizerSpec& m = test::micro_tokenizer().spec();
  EXPECT_FALSE(m.bos.has_value());
  EXPECT_EQ(m.eos, 4098);
  EXPECT_EQ(m.pad, 4096);
  EXPECT_EQ(test::micro_tokenizer().n_vocab(), 4224);
}

// Not a pass/fail speed check (the machine is shared); prints the numbers the README quotes.
TEST(TokenizerGolden, ReportsLoadAndEncodeSpeed) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const Tokenizer tok(load_hf_tokenizer(fixture("tokenizer/tokenizer.json")));
  const double load_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::string paragraph;
  for (const auto& line : read_jsonl(fixture("tokenizer/golden.jsonl"))) {
    if (line["text"].get<std::string>().size() > paragraph.size()) paragraph = line["text"];
  }
  const int n_rep = 20;
  size_t n_tokens = 0;
  const auto t1 = Clock::now();
  for (int r = 0; r < n_rep; ++r) n_tokens = tok.encode(paragraph, true).size();
  const double enc_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count() / n_rep;
  std::printf("tokenizer.json load: %.1f ms; encode of %zu bytes -> %zu tokens: %.3f ms (%.1f MB/s)\n", load_ms,
              paragraph.size(), n_tokens, enc_ms, paragraph.size() / enc_ms / 1e3);
  EXPECT_GT(n_tokens, 0u);
}

}  // namespace
}  // namespace fare
