#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"
#include "tokenizer/unicode.h"

namespace fare {
namespace {

// Streams ids one at a time; every piece must be valid UTF-8 on its own.
std::string stream(const Tokenizer& tok, const std::vector<int32_t>& ids, int* n_held = nullptr,
                   bool skip_special = false) {
  StreamDecoder dec(tok, skip_special);
  std::string out;
  for (int32_t id : ids) {
    const std::string piece = dec.push(id);
    EXPECT_TRUE(unicode::is_valid_utf8(piece)) << testing::PrintToString(piece);
    if (n_held != nullptr && piece.empty() && !tok.token_bytes(id).empty()) ++*n_held;
    out += piece;
  }
  const std::string tail = dec.flush();
  EXPECT_TRUE(unicode::is_valid_utf8(tail));
  return out + tail;
}

TEST(StreamDecoder, EmojiAndCjkSplitAcrossTokens) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::string text =
      "🙂👍🏽🚀 family: 👨‍👩‍👧‍👦 你好，世界！ 🏴󠁧󠁢󠁳󠁣󠁴󠁿 ok";
  const std::vector<int32_t> ids = tok.encode(text, true);
  int n_held = 0;
  EXPECT_EQ(stream(tok, ids, &n_held), text);
  EXPECT_GT(n_held, 0) << "expected some tokens to end inside a character";
}

TEST(StreamDecoder, EveryGoldenLineStreamsToItsDecoding) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  for (const auto& line : test::read_jsonl(test::fixture("tokenizer/golden.jsonl"))) {
    const std::vector<int32_t> ids = test::ids_of(line["ids_hf"]);
    EXPECT_EQ(stream(tok, ids), tok.decode(ids));
  }
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const int32_t ff = tok.encode("\xff", false).at(0);
  const std::vector<int32_t> lead = tok.encode("\xe4", false);  // first byte of 你
  ASSERT_EQ(lead.size(), 1u);
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(ff), "\xEF\xBF\xBD");  // can never become valid: replaced at once
  EXPECT_EQ(dec.push(lead[0]), "");         // held
  EXPECT_EQ(dec.push(tok.encode("a", false).at(0)),
            "\xEF\xBF\xBD"
            "a");
  EXPECT_EQ(dec.push(lead[0]), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // an incomplete tail
  EXPECT_EQ(dec.flush(), "");
}

TEST(StreamDecoder, SkipsSpecialTokensOnRequest) {
  const Tokenizer& tok = test::qwen3_tokenizer();
  const std::vector<int32_t> ids = tok.encode("<|im_start|>assistant\n<think>\n\n</think>\n\nOK<|im_end|>", true);
  EXPECT_EQ(stream(tok, ids, nullptr, /*skip_special=*/true), "assistant\n<think>\n\n</think>\n\nOK");
}

}  // namespace
}  // namespace fare
