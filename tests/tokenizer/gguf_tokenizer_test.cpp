// The tokenizer embedded in GGUF files gives the Hugging Face ids.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
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

// A GGUF of the 256 byte tokens alone, with the pre-tokenizer named `pre`.
std::string byte_vocabulary_gguf(const std::string& pre) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", pre);
  w.set_string_array("tokenizer.ggml.tokens", test::byte_level_spec({}, {}).tokens);
  w.set_string_array("tokenizer.ggml.merges", {});
  const std::string path = test::scratch_dir("gguf_pre_" + pre) + "/tokenizer.gguf";
  w.write(path);
  return path;
}

TEST(GgufTokenizer, PreTokenizerNameSetsPatternAndNormaliser) {
  const TokenizerSpec qwen = load_gguf_tokenizer(GgufFile(byte_vocabulary_gguf("qwen2")));
  EXPECT_TRUE(qwen.nfc);
  EXPECT_FALSE(qwen.ignore_merges);
  const TokenizerSpec o200k = load_gguf_tokenizer(GgufFile(byte_vocabulary_gguf("gpt-4o")));
  EXPECT_EQ(o200k.pre, "gpt-4o");
  EXPECT_FALSE(o200k.nfc);
  EXPECT_TRUE(o200k.ignore_merges);
  EXPECT_TRUE(o200k.pre_pattern.empty());  // the Tokenizer takes the pattern by name
  const Tokenizer tok(o200k);
  EXPECT_EQ(tok.decode(tok.encode("DON'T 1234", false)), "DON'T 1234");
  const std::string path = byte_vocabulary_gguf("llama-bpe");
  try {
    load_gguf_tokenizer(GgufFile(path));
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("tokenizer.ggml.pre is 'llama-bpe'; only 'qwen2' and 'gpt-4o'"), std::string::npos) << msg;
  }
}

TEST(GgufTokenizer, EmbeddedChatTemplateIsQwen3) {
  const GgufFile gguf(fixture("tiny-qwen3/tiny-qwen3-q8_0.gguf"));
  const ChatTemplate tpl(gguf.get_string("tokenizer.chat_template"));
  EXPECT_EQ(tpl.family(), "qwen3");
}

}  // namespace
}  // namespace fare
