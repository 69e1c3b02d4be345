#include "convert/gguf_metadata.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/gguf.h"

namespace fare {

namespace fs = std::filesystem;

namespace {

// tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
constexpr int32_t kTypeNormal = 1, kTypeControl = 3, kTypeUserDefined = 4, kTypeUnused = 5;
constexpr uint32_t kQuantizationVersion = 2;  // ggml's current block format version

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The template as Hugging Face finds it: chat_template.jinja, else tokenizer_config.json's
// chat_template (a string, or a list of named templates of which "default" is used).
std::string read_chat_template(const fs::path& dir) {
  if (fs::exists(dir / "chat_template.jinja")) return read_file(dir / "chat_template.jinja");
  const fs::path tc = dir / "tokenizer_config.json";
  if (!fs::exists(tc)) return {};
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(tc));
  } catch (const nlohmann::json::parse_error& e) {
    fail(tc.string(), ": not valid JSON: ", e.what());
  }
  if (!j.is_object() || !j.contains("chat_template")) return {};
  const auto& t = j["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array())
    for (const auto& e : t)
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
        return e["template"].get<std::string>();
  return {};
}

}  // namespace

TokenizerFiles read_tokenizer_files(const std::string& dir) {
  if (!fs::is_directory(dir)) fail(dir, ": not a directory (expected a folder with tokenizer.json)");
  const fs::path tj = fs::path(dir) / "tokenizer.json";
  if (!fs::exists(tj)) fail(dir, ": no tokenizer.json");
  TokenizerFiles t;
  t.dir = dir;
  t.spec = load_hf_tokenizer(tj.string());
  t.chat_template = read_chat_template(dir);
  return t;
}

void set_model_metadata(GgufWriter& w, const Config& c, const std::string& name, uint32_t file_type) {
  w.set_string("general.architecture", c.architecture);
  w.set_string("general.type", "model");
  w.set_string("general.name", name);
  w.set_u32("general.file_type", file_type);
  w.set_u32("general.quantization_version", kQuantizationVersion);
  const std::string a = c.architecture + ".";
  w.set_u32(a + "block_count", static_cast<uint32_t>(c.n_layer));
  w.set_u32(a + "context_length", static_cast<uint32_t>(c.n_ctx_train));
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(c.n_embd));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.n_head));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_head_kv));
  w.set_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", c.rms_eps);
  w.set_u32(a + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.set_u32(a + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  if (c.arch != Arch::GptOss) return;
  w.set_u32(a + "expert_feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w.set_u32(a + "expert_count", static_cast<uint32_t>(c.n_expert));
  w.set_u32(a + "expert_used_count", static_cast<uint32_t>(c.n_expert_used));
  w.set_u32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  if (c.yarn.factor != 0) {
    w.set_string(a + "rope.scaling.type", "yarn");
    w.set_f32(a + "rope.scaling.factor", static_cast<float>(c.yarn.factor));
    w.set_u32(a + "rope.scaling.original_context_length", static_cast<uint32_t>(c.yarn.original_ctx));
    w.set_f32(a + "rope.scaling.yarn_beta_fast", static_cast<float>(c.yarn.beta_fast));
    w.set_f32(a + "rope.scaling.yarn_beta_slow", static_cast<float>(c.yarn.beta_slow));
  }
}

void set_tokenizer_metadata(GgufWriter& w, const TokenizerFiles& tok, int n_vocab) {
  const TokenizerSpec& s = tok.spec;
  if (s.tokens.size() > static_cast<size_t>(n_vocab))
    fail(tok.dir, ": the tokenizer has ", s.tokens.size(), " tokens, more than the model's ", n_vocab,
         " embedding rows (vocab_size)");
  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab), kTypeNormal);
  for (size_t id = 0; id < tokens.size(); ++id) {
    if (id < s.tokens.size()) tokens[id] = s.tokens[id];
    if (id >= s.tokens.size() || s.tokens[id].empty()) {
      tokens[id] = cat("[PAD", id, "]");
      types[id] = kTypeUnused;
    }
  }
  for (const AddedToken& a : s.added) types[static_cast<size_t>(a.id)] = a.special ? kTypeControl : kTypeUserDefined;
  std::vector<std::string> merges;
  merges.reserve(s.merges.size());
  for (const auto& [a, b] : s.merges) merges.push_back(a + " " + b);

  if (s.pre.empty())
    fail(tok.dir, ": the tokenizer's split regex is none that llama.cpp names (tokenizer.ggml.pre): ", s.pre_pattern);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", s.pre);
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  std::optional<int32_t> bos = s.bos;
  if (!bos)
    for (const AddedToken& a : s.added)
      if (a.content == "<|endoftext|>") bos = a.id;
  if (s.eos) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*s.eos));
  if (s.pad) w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*s.pad));
  if (bos) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*bos));
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  if (!tok.chat_template.empty()) w.set_string("tokenizer.chat_template", tok.chat_template);
}

}  // namespace fare
