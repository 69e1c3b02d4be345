// gpt-oss's tokenizer (OpenAI's o200k vocabulary with the harmony special tokens) against the
// Hugging Face ids of tests/tokenizer/gptoss/golden.jsonl (written there by make_golden.mjs),
// from its tokenizer.json and from the GGUF form llama.cpp gives it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "common/error.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_fixtures.h"

namespace fare {
namespace {

using test::ids_of;

constexpr size_t kGoldenLines = 230;  // the 140 Qwen3 golden texts, then 90 aimed at o200k and harmony
constexpr int32_t kStart = 200006, kEnd = 200007, kMessage = 200008, kChannel = 200005, kReturn = 200002,
                  kCall = 200012, kConstrain = 200003, kEndOfText = 199999, kStartOfText = 199998;

std::vector<nlohmann::ordered_json> golden_lines() {
  return test::read_jsonl(test::gptoss_dir() + "/golden.jsonl");
}

// Every golden line, both ways of treating special-token text, and back to the text (o200k has
// no normaliser, so decoding gives the text itself). Returns how many lines passed all four.
int check_golden(const Tokenizer& tok) {
  const auto lines = golden_lines();
  EXPECT_EQ(lines.size(), kGoldenLines);
  int n_ok = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string text = lines[i]["text"];
    SCOPED_TRACE(testing::Message() << "gptoss/golden.jsonl line " << i + 1 << " (" << lines[i]["note"] << ")");
    const std::vector<int32_t> ids = tok.encode(text, /*parse_special=*/true);
    const std::vector<int32_t> ids_plain = tok.encode(text, /*parse_special=*/false);
    EXPECT_EQ(ids, ids_of(lines[i]["ids"]));
    EXPECT_EQ(ids_plain, ids_of(lines[i]["ids_plain"]));
    EXPECT_EQ(tok.decode(ids), text);
    EXPECT_EQ(tok.decode(ids_plain), text);
    n_ok += ids == ids_of(lines[i]["ids"]) && ids_plain == ids_of(lines[i]["ids_plain"]) && tok.decode(ids) == text &&
            tok.decode(ids_plain) == text;
  }
  return n_ok;
}

TEST(GptossTokenizer, EveryGoldenLineMatchesHf) {
  const Tokenizer* tok = test::gptoss_tokenizer();
  if (tok == nullptr) GTEST_SKIP() << test::gptoss_missing();
  EXPECT_EQ(check_golden(*tok), static_cast<int>(kGoldenLines));
}

TEST(GptossTokenizer, SpecFromTokenizerJsonAndConfig) {
  const Tokenizer* tok = test::gptoss_tokenizer();
  if (tok == nullptr) GTEST_SKIP() << test::gptoss_missing();
  const TokenizerSpec& spec = tok->spec();
  EXPECT_EQ(tok->n_vocab(), 200019);  // 199,998 BPE tokens, then 21 special ones
  EXPECT_EQ(spec.merges.size(), 446189u);
  EXPECT_EQ(spec.pre, "gpt-4o");
  EXPECT_TRUE(spec.ignore_merges);
  EXPECT_FALSE(spec.nfc);
  EXPECT_EQ(spec.bos, kStartOfText);
  EXPECT_EQ(spec.eos, kReturn);
  EXPECT_EQ(spec.pad, kEndOfText);
  EXPECT_EQ(spec.added.size(), 21u);
  for (const AddedToken& t : spec.added) EXPECT_TRUE(tok->is_special(t.id)) << t.content;
  EXPECT_EQ(test::qwen3_tokenizer().spec().pre, "qwen2");  // the name follows the pattern in the file
}

TEST(GptossTokenizer, HarmonyTokens) {
  const Tokenizer* tok = test::gptoss_tokenizer();
  if (tok == nullptr) GTEST_SKIP() << test::gptoss_missing();
  const std::pair<const char*, int32_t> harmony[] = {
      {"<|start|>", kStart},     {"<|end|>", kEnd},   {"<|message|>", kMessage},     {"<|channel|>", kChannel},
      {"<|return|>", kReturn},   {"<|call|>", kCall}, {"<|constrain|>", kConstrain}, {"<|endoftext|>", kEndOfText},
      {"<|startoftext|>", kStartOfText}};
  for (const auto& [text, id] : harmony) {
    EXPECT_EQ(tok->find(text), id) << text;
    EXPECT_EQ(tok->encode(text, true), std::vector<int32_t>{id}) << text;
    EXPECT_GT(tok->encode(text, false).size(), 1u) << text;
  }
  const std::string turn = "<|start|>assistant<|channel|>final<|message|>Hi<|return|>";
  const std::vector<int32_t> ids = tok->encode(turn, true);
  EXPECT_EQ(tok->decode(ids), turn);
  EXPECT_EQ(tok->decode(ids, /*skip_special=*/true), "assistantfinalHi");
  StreamDecoder stream(*tok, /*skip_special=*/true);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  EXPECT_EQ(streamed + stream.flush(), "assistantfinalHi");
}

// The GGUF layout llama.cpp's converter writes for gpt-oss, built here rather than with fare's own
// converter so that the loader is checked against llama.cpp's files: one token per embedding row
// (201,088), the rows past the tokenizer "[PAD<id>]" of type UNUSED, the special tokens CONTROL,
// merges as "a b", the pre-tokenizer named "gpt-4o", and no key for the normaliser or ignore_merges.
std::string write_llamacpp_gguf(const Tokenizer& tok, const std::string& path) {
  constexpr int32_t kEmbeddingRows = 201088, kNormal = 1, kControl = 3, kUnused = 5;
  std::vector<std::string> tokens(kEmbeddingRows);
  std::vector<int32_t> types(kEmbeddingRows, kNormal);
  for (int32_t id = 0; id < kEmbeddingRows; ++id) {
    if (id < tok.n_vocab()) {
      tokens[id] = tok.token_text(id);
      if (tok.is_special(id)) types[id] = kControl;
    } else {
      tokens[id] = cat("[PAD", id, "]");
      types[id] = kUnused;
    }
  }
  std::vector<std::string> merges;
  for (const auto& [a, b] : tok.spec().merges) merges.push_back(a + " " + b);
  GgufWriter w;
  w.set_string("general.architecture", "gpt-oss");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-4o");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.bos_token_id", kStartOfText);
  w.set_u32("tokenizer.ggml.eos_token_id", kReturn);
  w.set_u32("tokenizer.ggml.padding_token_id", kEndOfText);
  w.write(path);
  return path;
}

TEST(GptossTokenizer, GgufFormGivesTheSameIds) {
  const Tokenizer* hf = test::gptoss_tokenizer();
  if (hf == nullptr) GTEST_SKIP() << test::gptoss_missing();
  const std::string path = write_llamacpp_gguf(*hf, test::scratch_dir("gptoss_gguf") + "/tokenizer.gguf");
  const Tokenizer gguf(load_gguf_tokenizer(GgufFile(path)));
  EXPECT_EQ(gguf.n_vocab(), 201088);
  EXPECT_EQ(gguf.spec().pre, "gpt-4o");
  EXPECT_TRUE(gguf.spec().ignore_merges);
  EXPECT_FALSE(gguf.spec().nfc);
  EXPECT_EQ(gguf.spec().eos, kReturn);
  EXPECT_EQ(gguf.token_bytes(200500), "");  // a padding row stands for no text
  EXPECT_EQ(check_golden(gguf), static_cast<int>(kGoldenLines));
}

// Not a pass/fail speed check (the machine is shared); prints the numbers the README quotes.
TEST(GptossTokenizer, ReportsLoadAndEncodeSpeed) {
  if (test::gptoss_tokenizer() == nullptr) GTEST_SKIP() << test::gptoss_missing();
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  TokenizerSpec spec = load_hf_tokenizer(test::gptoss_tokenizer_json());
  const auto t1 = Clock::now();
  const Tokenizer tok(std::move(spec));
  const auto t2 = Clock::now();
  std::string paragraph;
  for (const auto& line : golden_lines()) {
    if (line["text"].get<std::string>().size() > paragraph.size()) paragraph = line["text"];
  }
  const int n_rep = 20;
  size_t n_tokens = 0;
  const auto t3 = Clock::now();
  for (int r = 0; r < n_rep; ++r) n_tokens = tok.encode(paragraph, true).size();
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  const double enc_ms = ms(Clock::now() - t3) / n_rep;
  std::printf("gpt-oss tokenizer.json: parse %.0f ms + build %.0f ms; encode of %zu bytes -> %zu tokens: %.3f ms "
              "(%.1f MB/s)\n",
              ms(t1 - t0), ms(t2 - t1), paragraph.size(), n_tokens, enc_ms, paragraph.size() / enc_ms / 1e3);
  EXPECT_GT(n_tokens, 0u);
}

}  // namespace
}  // namespace fare
