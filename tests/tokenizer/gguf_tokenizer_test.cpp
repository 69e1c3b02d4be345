// The tokenizer embedded in GGUF files gives the Hugging Face ids.
#include <gtest/gtest.h>

#include <filesystem>

#include "io/gguf.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

using test::fixture;
using test::ids_of;

const Tokenizer& tiny_gguf_tokenizer() {
  static const Tokenizer tok(load_gguf_tokenizer(GgufFile(fixture("tiny-qwen3/tiny-qwen3-q8_0.gguf"))));
  return tok;
}

TEST(GgufTokenizer, FullQwen3VocabularyMatchesHfOnEveryGoldenLine) {
  const Tokenizer& gguf = tiny_gguf_tokenizer();
  const Tokenizer& hf = test::qwen3_tokenizer();
  int n_ok = 0;
  for (const auto& line : test::read_jsonl(fixture("tokenizer/golden.jsonl"))) {
    const std::string text = line["text"];
    SCOPED_TRACE(text.substr(0, 60));
    const std::vector<int32_t> ids = gguf.encode(text, true);
    EXPECT_EQ(ids, ids_of(line["ids_hf"]));
    EXPECT_EQ(ids, hf.encode(text, true));
    EXPECT_EQ(gguf.decode(ids), hf.decode(ids));
    n_ok += ids == ids_of(line["ids_hf"]);
  }
  EXPECT_EQ(n_ok, 140);
}

TEST(GgufTokenizer, MetadataAndTokenTypes) {
  const Tokenizer& tok = tiny_gguf_tokenizer();
  EXPECT_EQ(tok.n_vocab(), 151936);  // padded to the embedding rows
  EXPECT_EQ(tok.spec().bos, 151643);
  EXPECT_EQ(tok.spec().eos, 151645);
  EXPECT_EQ(tok.spec().pad, 151643);
  EXPECT_TRUE(tok.is_special(151644));   // CONTROL
  EXPECT_FALSE(tok.is_special(151667));  // <think>: USER_DEFINED
  EXPECT_EQ(tok.encode("<think>", false), std::vector<int32_t>{151667});
  // UNUSED padding rows stand for no text, as in Hugging Face and llama.cpp.
  EXPECT_EQ(tok.token_text(151700), "[PAD151700]");
  EXPECT_EQ(tok.token_bytes(151700), "");
  // llama.cpp's converter types <|fim_prefix|> as CONTROL although Hugging Face has it as a
  // non-special added token: only parse_special=false tells them apart.
  EXPECT_TRUE(tok.is_special(151659));
  EXPECT_FALSE(test::qwen3_tokenizer().is_special(151659));
}

TEST(GgufTokenizer, MicroVocabularyInEveryGgufType) {
  const auto lines = test::read_jsonl(fixture("micro-qwen3/tokenizer/check.jsonl"));
  int n_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(fixture("micro-qwen3"))) {
    if (entry.path().extension() != ".gguf") continue;
    ++n_files;
    SCOPED_TRACE(entry.path().filename().string());
    const Tokenizer tok(load_gguf_tokenizer(GgufFile(entry.path().string())));
    EXPECT_EQ(tok.n_vocab(), 4224);
    EXPECT_EQ(tok.spec().eos, 4098);
    for (const auto& line : lines) EXPECT_EQ(tok.encode(line["text"].get<std::string>(), true), ids_of(line["ids_hf"]));
  }
  EXPECT_GE(n_files, 8);
}

TEST(GgufTokenizer, EmbeddedChatTemplateIsQwen3) {
  const GgufFile gguf(fixture("tiny-qwen3/tiny-qwen3-q8_0.gguf"));
  const ChatTemplate tpl(gguf.get_string("tokenizer.chat_template"));
  EXPECT_EQ(tpl.family(), "qwen3");
}

}  // namespace
}  // namespace fare
