// Loading a Hugging Face tokenizer (tokenizer/tokenizer.h, load_hf_tokenizer, then the Tokenizer
// constructor that validates it). Byte 0 even: the rest is tokenizer.json, with no
// tokenizer_config.json beside it. Odd: the rest is tokenizer_config.json, beside a small valid
// tokenizer.json (the 256 byte symbols, Qwen's split regex and three special tokens).
// A tokenizer that loads must encode and decode: the rest of the input (at most 256 bytes) and a
// few fixed strings, with decode(encode(s)) == s wherever the README promises it (NFC leaves s
// unchanged, or the file has no normaliser; no added token strips white space), and its
// bos/eos/pad ids in the vocabulary.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "tokenizer/byte_symbols.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

constexpr const char* kQwen2Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";

std::string small_tokenizer_json() {
  ordered_json vocab = ordered_json::object();
  for (int b = 0; b < 256; ++b) vocab[fare::byte_symbols::encode(std::string(1, static_cast<char>(b)))] = b;
  ordered_json added = ordered_json::array();
  int id = 256;
  for (const char* t : {"<|endoftext|>", "<|im_start|>", "<|im_end|>"})
    added.push_back({{"id", id++}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                     {"normalized", false}, {"special", true}});
  const ordered_json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                                   {"use_regex", false}};
  const ordered_json j = {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Split}}}, {"behavior", "Isolated"}, {"invert", false}},
          byte_level}}}},
      {"decoder", byte_level},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"vocab", vocab}, {"merges", ordered_json::array()}}}};
  return j.dump();
}

const fs::path& with_config_dir() {
  static const fs::path dir = [] {
    const fs::path d = fare::fuzz::scratch_dir() / "with_config";
    fs::create_directories(d);
    fare::fuzz::write_file(d / "tokenizer.json", small_tokenizer_json());
    return d;
  }();
  return dir;
}

const fs::path& alone_dir() {
  static const fs::path dir = [] {
    const fs::path d = fare::fuzz::scratch_dir() / "alone";
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void check_round_trip(const fare::Tokenizer& tok, std::string_view s) {
  const auto& spec = tok.spec();
  for (const fare::AddedToken& t : spec.added)
    if (t.lstrip || t.rstrip) return;  // those swallow white space, as in Hugging Face
  if (spec.nfc && fare::unicode::nfc(s) != s) return;
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = tok.encode(s, special);
    for (int32_t id : ids) FUZZ_CHECK(id >= 0 && id < tok.n_vocab(), "id ", id, " of ", tok.n_vocab());
    const std::string back = tok.decode(ids);
    FUZZ_CHECK(back == s, "decode(encode(s, ", special, ")) differs: ", back.size(), " bytes for ", s.size());
    std::string streamed;
    fare::StreamDecoder sd(tok);
    for (int32_t id : ids) streamed += sd.push(id);
    streamed += sd.flush();
    FUZZ_CHECK(fare::unicode::is_valid_utf8(streamed), "the stream decoder gave invalid UTF-8");
    if (fare::unicode::is_valid_utf8(s)) FUZZ_CHECK(streamed == s, "the stream decoder lost text");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool config = data[0] & 1;
  const std::string_view rest = fare::fuzz::as_text(data + 1, size - 1);
  const fs::path dir = config ? with_config_dir() : alone_dir();
  fare::fuzz::write_file(dir / (config ? "tokenizer_config.json" : "tokenizer.json"), rest);

  fare::TokenizerSpec spec;
  if (!fare::fuzz::expect_only_errors([&] { spec = fare::load_hf_tokenizer((dir / "tokenizer.json").string()); }))
    return 0;
  std::optional<fare::Tokenizer> tok;
  if (!fare::fuzz::expect_only_errors([&] { tok.emplace(std::move(spec)); })) return 0;
  for (std::optional<int32_t> id : {tok->spec().bos, tok->spec().eos, tok->spec().pad})
    if (id) FUZZ_CHECK(*id >= 0 && *id < tok->n_vocab(), "special id ", *id, " of ", tok->n_vocab());
  for (std::string_view s : {std::string_view("Hello, world! 123"), std::string_view("<|im_start|>user\nhi<|im_end|>"),
                             std::string_view("caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xff\xfe"), rest.substr(0, 256)}) {
    fare::fuzz::expect_no_exception([&] { check_round_trip(*tok, s); });
  }
  return 0;
}
