// load_gguf_tokenizer: the tokenizer.ggml.* keys llama.cpp writes for a "gpt2"-type (byte-level
// BPE) vocabulary with the "qwen2" or "gpt-4o" (o200k) pre-tokenizer. Token types follow
// llama.cpp: CONTROL tokens are special added tokens, USER_DEFINED ones are added tokens that are
// always matched, UNUSED ones stand for no text.
#include "common/error.h"
#include "io/gguf.h"
#include "tokenizer/merge_text.h"
#include "tokenizer/tokenizer.h"

namespace fare {
namespace {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum GgufTokenType : int64_t {
  kTypeNormal = 1,
  kTypeUnknown = 2,
  kTypeControl = 3,
  kTypeUserDefined = 4,
  kTypeUnused = 5,
  kTypeByte = 6,
};

// What a tokenizer.json of the family says and GGUF has no key for, implied by the pre-tokenizer
// name: Qwen's has an NFC normaliser; gpt-oss's (o200k) has none and sets ignore_merges.
struct PreTokenizerFamily {
  std::string_view pre;
  bool nfc;
  bool ignore_merges;
};
constexpr PreTokenizerFamily kFamilies[] = {{"qwen2", true, false}, {"gpt-4o", false, true}};

const PreTokenizerFamily& check_model(const GgufFile& gguf) {
  const std::string model = gguf.get_string("tokenizer.ggml.model");
  if (model != "gpt2") {
    fail(gguf.path(), ": tokenizer.ggml.model is '", model, "'; only 'gpt2' (byte-level BPE) is supported");
  }
  const std::string pre = gguf.has("tokenizer.ggml.pre") ? gguf.get_string("tokenizer.ggml.pre") : "(missing)";
  for (const PreTokenizerFamily& f : kFamilies) {
    if (f.pre == pre) return f;
  }
  fail(gguf.path(), ": tokenizer.ggml.pre is '", pre, "'; only 'qwen2' and 'gpt-4o' are supported");
}

void read_token_types(const GgufFile& gguf, TokenizerSpec& spec) {
  if (!gguf.has("tokenizer.ggml.token_type")) return;  // all NORMAL
  const std::vector<int64_t>& types = gguf.get_int_array("tokenizer.ggml.token_type");
  if (types.size() != spec.tokens.size()) {
    fail(gguf.path(), ": tokenizer.ggml.token_type has ", types.size(), " entries, expected one per token (",
         spec.tokens.size(), ")");
  }
  for (size_t id = 0; id < types.size(); ++id) {
    const auto id32 = static_cast<int32_t>(id);
    switch (types[id]) {
      case kTypeNormal:
      case kTypeByte:
        break;
      case kTypeUnknown:
      case kTypeControl:
        spec.added.push_back({id32, spec.tokens[id], true, false, false});
        break;
      case kTypeUserDefined:
        spec.added.push_back({id32, spec.tokens[id], false, false, false});
        break;
      case kTypeUnused:
        spec.unused.push_back(id32);
        break;
      default:
        fail(gguf.path(), ": tokenizer.ggml.token_type[", id, "] is ", types[id], ", expected 1 to 6");
    }
  }
}

std::optional<int32_t> optional_id(const GgufFile& gguf, const std::string& key) {
  if (!gguf.has(key)) return std::nullopt;
  const int64_t id = gguf.get_int(key);
  if (id < 0 || id > INT32_MAX) fail(gguf.path(), ": ", key, " is ", id, ", not a token id");
  return static_cast<int32_t>(id);
}

}  // namespace

TokenizerSpec load_gguf_tokenizer(const GgufFile& gguf) {
  const PreTokenizerFamily& family = check_model(gguf);
  TokenizerSpec spec;
  spec.tokens = gguf.get_string_array("tokenizer.ggml.tokens");
  const std::vector<std::string>& merges = gguf.get_string_array("tokenizer.ggml.merges");
  spec.merges.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    auto pair = split_merge_text(merges[i]);
    if (!pair) fail(gguf.path(), ": tokenizer.ggml.merges[", i, "]: ", kMergeTextExpected, ", got '", merges[i], "'");
    spec.merges.push_back(std::move(*pair));
  }
  read_token_types(gguf, spec);
  spec.nfc = family.nfc;
  spec.pre = family.pre;
  spec.ignore_merges = family.ignore_merges;
  spec.bos = optional_id(gguf, "tokenizer.ggml.bos_token_id");
  spec.eos = optional_id(gguf, "tokenizer.ggml.eos_token_id");
  spec.pad = optional_id(gguf, "tokenizer.ggml.padding_token_id");
  return spec;
}

}  // namespace fare
