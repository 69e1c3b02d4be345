#include "model/config.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "io/gguf.h"
#include "io/json_file.h"

namespace fare {

namespace {

using json = nlohmann::json;

// A number of type T: JSON integers for int fields (range-checked before narrowing), any finite
// number within T's range for floating-point ones.
template <typename T>
T field(const json& j, const std::string& path, const char* key) {
  if (!j.contains(key) || j[key].is_null()) fail(path, ": missing field '", key, "'");
  const json& v = j[key];
  auto bad = [&](const char* expected) { fail(path, ": field '", key, "' is ", v.dump(), ", expected ", expected); };
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) bad("a boolean");
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) bad("an integer");
    if (v.is_number_unsigned() ? v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<T>::max())
                               : (v.get<int64_t>() < std::numeric_limits<T>::min() || v.get<int64_t>() > std::numeric_limits<T>::max()))
      bad(cat("an integer in [", std::numeric_limits<T>::min(), ", ", std::numeric_limits<T>::max(), "]").c_str());
    return static_cast<T>(v.get<int64_t>());
  } else {
    if (!v.is_number()) bad("a number");
    const double d = v.get<double>();
    if (!(std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max()))) bad("a finite number");
    return static_cast<T>(d);
  }
}

// Integer hyper-parameter from GGUF, range-checked before it is narrowed to int.
int gguf_dim(const GgufFile& g, const std::string& key) {
  const int64_t v = g.get_int(key);
  if (v < 0 || v > (int64_t{1} << 30)) fail(g.path(), ": ", key, " is ", v, ", outside [0, 2^30]");
  return static_cast<int>(v);
}

}  // namespace

void Config::validate(const std::string& source) const {
  auto positive = [&](const char* name, long v) {
    if (v <= 0) fail(source, ": ", name, " is ", v, ", expected a positive value");
  };
  positive("num_hidden_layers", n_layer);
  positive("hidden_size", n_embd);
  positive("num_attention_heads", n_head);
  positive("num_key_value_heads", n_head_kv);
  positive("head_dim", head_dim);
  positive("intermediate_size", n_ff);
  positive("vocab_size", n_vocab);
  positive("max_position_embeddings", n_ctx_train);
  if (n_head % n_head_kv != 0)
    fail(source, ": num_attention_heads (", n_head, ") is not a multiple of num_key_value_heads (", n_head_kv, ")");
  if (head_dim % 2 != 0) fail(source, ": head_dim ", head_dim, " is odd; rotary embedding needs pairs");
  if (!(rms_eps > 0)) fail(source, ": rms_norm_eps is ", rms_eps, ", expected > 0");
  if (!(rope_theta > 0)) fail(source, ": rope_theta is ", rope_theta, ", expected > 0");
}

Config config_from_hf_json(const std::string& path) {
  const json j = read_json_file(path);
  if (!j.is_object()) fail(path, ": expected a JSON object, found ", j.type_name());
  Config c;
  const auto arch = j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : std::string();
  if (arch != "qwen3")
    fail(path, ": model_type is '", arch, "', expected 'qwen3' (FARE-8B is a Qwen3 model)");
  c.architecture = arch;
  c.n_layer = field<int>(j, path, "num_hidden_layers");
  c.n_embd = field<int>(j, path, "hidden_size");
  c.n_head = field<int>(j, path, "num_attention_heads");
  c.n_head_kv = j.contains("num_key_value_heads") ? field<int>(j, path, "num_key_value_heads") : c.n_head;
  // Qwen3 always writes head_dim; older configs derive it from the widths.
  c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? field<int>(j, path, "head_dim")
                                                                   : (c.n_head > 0 ? c.n_embd / c.n_head : 0);
  c.n_ff = field<int>(j, path, "intermediate_size");
  c.n_vocab = field<int>(j, path, "vocab_size");
  c.n_ctx_train = field<int>(j, path, "max_position_embeddings");
  c.rms_eps = field<float>(j, path, "rms_norm_eps");
  c.rope_theta = field<double>(j, path, "rope_theta");
  c.tie_embeddings = j.contains("tie_word_embeddings") ? field<bool>(j, path, "tie_word_embeddings") : false;
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    fail(path, ": rope_scaling ", j["rope_scaling"].dump(), " is not supported (plain RoPE only)");
  c.validate(path);
  return c;
}

Config config_from_gguf(const GgufFile& g) {
  Config c;
  c.architecture = g.get_string("general.architecture");
  if (c.architecture != "qwen3")
    fail(g.path(), ": general.architecture is '", c.architecture, "', expected 'qwen3'");
  const std::string a = c.architecture + ".";
  c.n_layer = gguf_dim(g, a + "block_count");
  c.n_embd = gguf_dim(g, a + "embedding_length");
  c.n_head = gguf_dim(g, a + "attention.head_count");
  c.n_head_kv = g.has(a + "attention.head_count_kv") ? gguf_dim(g, a + "attention.head_count_kv") : c.n_head;
  c.head_dim = g.has(a + "attention.key_length") ? gguf_dim(g, a + "attention.key_length")
                                                 : (c.n_head > 0 ? c.n_embd / c.n_head : 0);
  if (g.has(a + "attention.value_length") && g.get_int(a + "attention.value_length") != c.head_dim)
    fail(g.path(), ": attention.value_length ", g.get_int(a + "attention.value_length"), " differs from key_length ",
         c.head_dim, " (not supported)");
  c.n_ff = gguf_dim(g, a + "feed_forward_length");
  c.n_ctx_train = gguf_dim(g, a + "context_length");
  c.rms_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  c.rope_theta = g.has(a + "rope.freq_base") ? g.get_float(a + "rope.freq_base") : 10000.0;
  // The vocabulary size comes from the embedding tensor (checked against the tokenizer later).
  const auto it = g.tensors().find("token_embd.weight");
  if (it == g.tensors().end()) fail(g.path(), ": missing tensor 'token_embd.weight'");
  if (it->second.shape.size() != 2) fail(g.path(), ": tensor 'token_embd.weight' has shape ", shape_str(it->second.shape), ", expected 2 dimensions");
  c.n_vocab = static_cast<int>(it->second.shape[0]);
  c.tie_embeddings = g.tensors().count("output.weight") == 0;
  c.validate(g.path());
  return c;
}

}  // namespace fare
