// Byte-level BPE as used by Qwen2/Qwen3 and by gpt-oss (OpenAI's o200k vocabulary): an optional
// NFC normalisation, a split regex (Qwen2's or o200k's), then BPE merges over GPT-2 byte symbols;
// added tokens are matched whole before any of that.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fare {

class GgufFile;

// A byte range [begin, end) of a text.
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
};

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;  // special tokens are matched only when encode() is asked to
  bool lstrip = false;
  bool rstrip = false;
};

// Everything a tokenizer is built from, whichever file it came from.
struct TokenizerSpec {
  std::vector<std::string> tokens;  // id -> token in byte-level symbol form ("Ġthe")
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::vector<AddedToken> added;
  bool nfc = true;              // normalizer: NFC (Qwen); none for o200k
  std::string pre = "qwen2";    // split regex by llama.cpp name: "qwen2" or "gpt-4o" (o200k); empty
                                // when a tokenizer.json gives a pattern that has no name
  std::string pre_pattern;      // the split regex as the file gives it; empty: the named one
  bool ignore_merges = false;   // a pre-token that is a whole vocabulary entry is that token,
                                // whatever the merges would make of it (o200k)
  std::vector<int32_t> unused;  // ids that stand for no text (vocabulary padding, id gaps)
  std::optional<int32_t> bos;   // ids from the model's files, never from constants
  std::optional<int32_t> eos;
  std::optional<int32_t> pad;
};

// From a Hugging Face tokenizer.json (and tokenizer_config.json beside it when present, for
// bos/eos/pad). Throws fare::Error naming the file and what is wrong.
TokenizerSpec load_hf_tokenizer(const std::string& tokenizer_json_path);
// From GGUF metadata (tokenizer.ggml.*).
TokenizerSpec load_gguf_tokenizer(const GgufFile& gguf);

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerSpec spec);  // validates: merges refer to known tokens, ids unique
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // parse_special: whether special-token text ("<|im_start|>") becomes its id; non-special
  // added tokens ("<think>") are always matched, as Hugging Face does. Invalid UTF-8 is not an
  // error: NFC and the split regex pass invalid bytes through untouched and BPE encodes them as
  // byte tokens, so decode(encode(s)) == s byte for byte wherever NFC leaves s unchanged.
  // Thread-safe.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;
  // encode(text, true), except that no special or added token is recognised in the `literal`
  // spans (ascending, disjoint, within text): their bytes are always ordinary text, and a token
  // is matched only where it lies wholly outside them. The text between two recognised tokens is
  // still normalised, split and merged as one piece, borders of spans or not, so the ids equal
  // encode(text, true) wherever the spans hold no added-token text. For chat prompts: the spans
  // are what the messages said, the rest is the template's markup.
  std::vector<int32_t> encode_with_literal_spans(std::string_view text, std::span<const TextSpan> literal) const;
  // Concatenated bytes of the tokens (may end inside a UTF-8 sequence; invalid UTF-8 is kept
  // as bytes). skip_special drops special tokens. Ids outside the vocabulary (a model's padded
  // embedding rows) and unused ids decode to nothing, as in Hugging Face.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The raw bytes one token stands for. Throws fare::Error for an id out of range.
  std::string token_bytes(int32_t id) const;
  // The token as written in the vocabulary ("Ġthe", "<|im_end|>").
  const std::string& token_text(int32_t id) const;
  std::optional<int32_t> find(std::string_view token_text) const;

  int32_t n_vocab() const;
  bool is_special(int32_t id) const;
  const TokenizerSpec& spec() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text without ever emitting half a UTF-8 character: bytes of
// an incomplete sequence are held until the token that completes it arrives.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool skip_special = false) : tok_(tok), skip_special_(skip_special) {}
  // Returns the text that became complete; bytes that can never form a character come out as
  // U+FFFD at once, so the result is always valid UTF-8.
  std::string push(int32_t id);
  std::string flush();  // whatever is left (an incomplete tail comes out as U+FFFD)

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace fare
