// The metadata llama.cpp expects in a Qwen3 or gpt-oss GGUF: general.*, the architecture's
// hyper-parameters and the tokenizer as tokenizer.ggml.* (a "gpt2" byte-level BPE with the "qwen2" or "gpt-4o" pre-tokenizer).
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace fare {

class GgufWriter;

// A Hugging Face tokenizer folder: tokenizer.json, with tokenizer_config.json (bos/eos/pad and
// chat_template) or chat_template.jinja beside it.
struct TokenizerFiles {
  std::string dir;
  TokenizerSpec spec;
  std::string chat_template;  // empty when the folder has none
};
TokenizerFiles read_tokenizer_files(const std::string& dir);

// general.architecture/type/name/file_type/quantization_version and the architecture's keys.
void set_model_metadata(GgufWriter& w, const Config& c, const std::string& name, uint32_t file_type);

// tokenizer.ggml.* and tokenizer.chat_template. The token list has one entry per embedding row
// (n_vocab): ids the tokenizer does not use become "[PAD<id>]" of type UNUSED, as llama.cpp's
// converter writes them. Without a bos_token, bos is <|endoftext|> (also as llama.cpp does).
// Throws fare::Error when the split regex has no llama.cpp name: the GGUF could not say it.
void set_tokenizer_metadata(GgufWriter& w, const TokenizerFiles& tok, int n_vocab);

}  // namespace fare
