#include "model/config.h"

#include <algorithm>
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

// llama.cpp's gpt-oss: the even layers slide (its pattern of 2), the clamp and YaRN's betas are
// the model's constants unless the file says otherwise.
void gpt_oss_from_gguf(const GgufFile& g, const std::string& a, Config& c) {
  c.n_expert = gguf_dim(g, a + "expert_count");
  c.n_expert_used = gguf_dim(g, a + "expert_used_count");
  c.sliding_window = gguf_dim(g, a + "attention.sliding_window");
  // llama.cpp's pattern n: layer l slides when l % n < n - 1 (2: the even layers).
  const int pattern = g.has(a + "attention.sliding_window_pattern") ? gguf_dim(g, a + "attention.sliding_window_pattern") : 2;
  if (pattern < 1) fail(g.path(), ": ", a, "attention.sliding_window_pattern is ", pattern, ", expected >= 1");
  c.sliding.assign(static_cast<size_t>(c.n_layer), false);
  for (size_t l = 0; l < c.sliding.size(); ++l) c.sliding[l] = static_cast<int>(l % static_cast<size_t>(pattern)) < pattern - 1;
  c.swiglu_limit = 7.0f;
  if (g.has(a + "rope.scaling.type")) {
    const std::string type = g.get_string(a + "rope.scaling.type");
    if (type != "yarn") fail(g.path(), ": ", a, "rope.scaling.type is '", type, "', expected 'yarn'");
    c.yarn.factor = g.get_float(a + "rope.scaling.factor");
    c.yarn.original_ctx = gguf_dim(g, a + "rope.scaling.original_context_length");
    if (g.has(a + "rope.scaling.yarn_beta_fast")) c.yarn.beta_fast = g.get_float(a + "rope.scaling.yarn_beta_fast");
    if (g.has(a + "rope.scaling.yarn_beta_slow")) c.yarn.beta_slow = g.get_float(a + "rope.scaling.yarn_beta_slow");
    // gpt-oss's config sets truncate: false; GGUF has no key for it (llama.cpp always rounds).
    c.yarn.truncate = false;
  }
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
  if (arch != Arch::GptOss) return;
  positive("num_local_experts", n_expert);
  positive("num_experts_per_tok", n_expert_used);
  if (n_expert_used > n_expert)
    fail(source, ": num_experts_per_tok (", n_expert_used, ") exceeds num_local_experts (", n_expert, ")");
  if (sliding_window < 0) fail(source, ": sliding_window is ", sliding_window, ", expected >= 0");
  if (sliding.size() != static_cast<size_t>(n_layer))
    fail(source, ": ", sliding.size(), " layer types for ", n_layer, " layers");
  if (!(swiglu_limit > 0)) fail(source, ": swiglu_limit is ", swiglu_limit, ", expected > 0");
  if (yarn.factor != 0) {
    if (!(yarn.factor >= 1)) fail(source, ": rope_scaling.factor is ", yarn.factor, ", expected >= 1");
    if (yarn.original_ctx <= 0)
      fail(source, ": rope_scaling.original_max_position_embeddings is ", yarn.original_ctx, ", expected > 0");
    if (!(yarn.beta_fast > 0 && yarn.beta_slow > 0))
      fail(source, ": rope_scaling.beta_fast / beta_slow are ", yarn.beta_fast, " / ", yarn.beta_slow, ", expected > 0");
  }
}

// Hugging Face's _compute_yarn_parameters: each pair's frequency blends the interpolated one
// (divided by the factor) into the original, by a linear ramp over the dimensions between the
// correction range's ends (the dimensions whose wavelength turns beta_fast and beta_slow times in
// the original context), computed here in double.
std::vector<double> Config::rope_inv_freq() const {
  const int half = head_dim / 2;
  std::vector<double> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) inv[static_cast<size_t>(i)] = std::pow(rope_theta, -2.0 * i / head_dim);
  if (yarn.factor == 0) return inv;
  const double pi = 3.14159265358979323846;
  auto correction_dim = [&](double rotations) {
    return head_dim * std::log(yarn.original_ctx / (rotations * 2 * pi)) / (2 * std::log(rope_theta));
  };
  double low = correction_dim(yarn.beta_fast), high = correction_dim(yarn.beta_slow);
  if (yarn.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, head_dim - 1.0);
  if (low == high) high += 0.001;
  for (int i = 0; i < half; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    const double extrapolation = 1 - ramp;  // the share of the original frequency
    double& f = inv[static_cast<size_t>(i)];
    f = f / yarn.factor * (1 - extrapolation) + f * extrapolation;
  }
  return inv;
}

double Config::rope_attention_factor() const {
  return yarn.factor > 1 ? 0.1 * std::log(yarn.factor) + 1.0 : 1.0;
}

namespace {

void gpt_oss_from_hf_json(const json& j, const std::string& path, Config& c) {
  c.n_expert = field<int>(j, path, "num_local_experts");
  c.n_expert_used = j.contains("num_experts_per_tok") ? field<int>(j, path, "num_experts_per_tok")
                                                      : field<int>(j, path, "experts_per_token");
  c.sliding_window = field<int>(j, path, "sliding_window");
  c.swiglu_limit = j.contains("swiglu_limit") ? field<float>(j, path, "swiglu_limit") : 7.0f;
  if (j.contains("attention_bias") && !field<bool>(j, path, "attention_bias"))
    fail(path, ": attention_bias is false; gpt-oss has biases on the attention projections");
  c.sliding.assign(static_cast<size_t>(std::max(c.n_layer, 0)), false);
  if (j.contains("layer_types")) {
    const json& t = j["layer_types"];
    if (!t.is_array() || t.size() != c.sliding.size())
      fail(path, ": layer_types is not a list of ", c.n_layer, " layer types");
    for (size_t l = 0; l < t.size(); ++l) {
      const std::string v = t[l].is_string() ? t[l].get<std::string>() : t[l].dump();
      if (v != "sliding_attention" && v != "full_attention")
        fail(path, ": layer_types[", l, "] is '", v, "', expected 'sliding_attention' or 'full_attention'");
      c.sliding[l] = v == "sliding_attention";
    }
  } else {
    for (size_t l = 0; l < c.sliding.size(); l += 2) c.sliding[l] = true;  // gpt-oss: even layers slide
  }
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    const json& r = j["rope_scaling"];
    const std::string where = path + ": rope_scaling";
    if (!r.is_object()) fail(where, " is ", r.dump(), ", expected an object");
    auto text = [&](const char* k) { return r.contains(k) && r[k].is_string() ? r[k].get<std::string>() : std::string(); };
    const std::string type = r.contains("rope_type") ? text("rope_type") : text("type");
    if (type != "yarn") fail(where, " type '", type, "' is not supported (gpt-oss uses 'yarn')");
    c.yarn.factor = field<double>(r, where, "factor");
    c.yarn.original_ctx = field<int>(r, where, "original_max_position_embeddings");
    if (r.contains("beta_fast")) c.yarn.beta_fast = field<double>(r, where, "beta_fast");
    if (r.contains("beta_slow")) c.yarn.beta_slow = field<double>(r, where, "beta_slow");
    if (r.contains("truncate")) c.yarn.truncate = field<bool>(r, where, "truncate");
    for (const char* k : {"attention_factor", "mscale", "mscale_all_dim"})
      if (r.contains(k) && !r[k].is_null()) fail(where, ".", k, " is not supported");
  }
}

}  // namespace

Config config_from_hf_json(const std::string& path) {
  const json j = read_json_file(path);
  if (!j.is_object()) fail(path, ": expected a JSON object, found ", j.type_name());
  Config c;
  const auto arch = j.contains("model_type") && j["model_type"].is_string() ? j["model_type"].get<std::string>() : std::string();
  if (arch != "qwen3" && arch != "gpt_oss")
    fail(path, ": model_type is '", arch, "', expected 'qwen3' (FARE-8B) or 'gpt_oss' (FARE-20B)");
  c.arch = arch == "qwen3" ? Arch::Qwen3 : Arch::GptOss;
  c.architecture = arch == "qwen3" ? "qwen3" : "gpt-oss";
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
  if (c.arch == Arch::GptOss) gpt_oss_from_hf_json(j, path, c);
  else if (j.contains("rope_scaling") && !j["rope_scaling"].is_null())
    fail(path, ": rope_scaling ", j["rope_scaling"].dump(), " is not supported (plain RoPE only)");
  c.validate(path);
  return c;
}

Config config_from_gguf(const GgufFile& g) {
  Config c;
  c.architecture = g.get_string("general.architecture");
  if (c.architecture != "qwen3" && c.architecture != "gpt-oss")
    fail(g.path(), ": general.architecture is '", c.architecture, "', expected 'qwen3' or 'gpt-oss'");
  c.arch = c.architecture == "qwen3" ? Arch::Qwen3 : Arch::GptOss;
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
  c.n_ff = gguf_dim(g, a + (c.arch == Arch::GptOss ? "expert_feed_forward_length" : "feed_forward_length"));
  c.n_ctx_train = gguf_dim(g, a + "context_length");
  c.rms_eps = static_cast<float>(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  c.rope_theta = g.has(a + "rope.freq_base") ? g.get_float(a + "rope.freq_base") : 10000.0;
  // The vocabulary size comes from the embedding tensor (checked against the tokenizer later).
  const auto it = g.tensors().find("token_embd.weight");
  if (it == g.tensors().end()) fail(g.path(), ": missing tensor 'token_embd.weight'");
  if (it->second.shape.size() != 2) fail(g.path(), ": tensor 'token_embd.weight' has shape ", shape_str(it->second.shape), ", expected 2 dimensions");
  c.n_vocab = static_cast<int>(it->second.shape[0]);
  c.tie_embeddings = g.tensors().count("output.weight") == 0;
  if (c.arch == Arch::GptOss) gpt_oss_from_gguf(g, a, c);
  c.validate(g.path());
  return c;
}

}  // namespace fare
