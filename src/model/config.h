// Model hyper-parameters (Qwen3, gpt-oss), read from config.json or GGUF metadata and validated
// once at load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fare {

class GgufFile;

enum class Arch : uint8_t { Qwen3, GptOss };

// YaRN's rescaling of the rotary frequencies (gpt-oss); none when factor is 0.
struct Yarn {
  double factor = 0;
  int original_ctx = 0;   // original_max_position_embeddings
  double beta_fast = 32;  // rotations per wavelength where interpolation stops ...
  double beta_slow = 1;   // ... and where it is complete
  bool truncate = true;   // round the correction range to whole dimensions (gpt-oss: false)
};

struct Config {
  std::string architecture;  // "qwen3" or "gpt-oss" (GGUF's spelling)
  Arch arch = Arch::Qwen3;
  int n_layer = 0;           // transformer blocks (num_hidden_layers)
  int n_embd = 0;            // residual width (hidden_size)
  int n_head = 0;            // query heads (num_attention_heads)
  int n_head_kv = 0;         // key/value heads (num_key_value_heads); GQA when < n_head
  int head_dim = 0;          // per-head width; Qwen3 sets it explicitly (q width may differ from n_embd)
  int n_ff = 0;              // SwiGLU inner width (intermediate_size)
  int n_vocab = 0;           // embedding rows (vocab_size)
  int n_ctx_train = 0;       // max_position_embeddings
  float rms_eps = 1e-6f;     // RMSNorm epsilon
  double rope_theta = 1e6;   // RoPE base
  bool tie_embeddings = false;  // lm_head shares the token embedding

  // gpt-oss: biases on the attention projections, one learned sink logit per query head, a
  // sliding window on some layers, YaRN, and a mixture of experts in place of the MLP (n_ff is
  // then one expert's width).
  int n_expert = 0;                // experts per layer (num_local_experts)
  int n_expert_used = 0;           // chosen per token (num_experts_per_tok)
  int sliding_window = 0;          // keys with query position - key position < this ...
  std::vector<bool> sliding;       // ... on the layers marked here
  float swiglu_limit = 0;          // the experts' clamp (swiglu_limit)
  Yarn yarn;

  bool moe() const { return n_expert > 0; }
  // Keys a query of layer l sees behind it (itself included); 0: all.
  int window(int l) const { return sliding_window > 0 && sliding[static_cast<size_t>(l)] ? sliding_window : 0; }
  // RoPE: the inverse frequency of each of the head_dim / 2 pairs, and the factor on cos and sin.
  std::vector<double> rope_inv_freq() const;
  double rope_attention_factor() const;

  int q_dim() const { return n_head * head_dim; }
  int kv_dim() const { return n_head_kv * head_dim; }
  int group() const { return n_head / n_head_kv; }  // query heads per kv head

  // Throws fare::Error naming `source` when a value is missing, non-positive or inconsistent.
  void validate(const std::string& source) const;
};

// From a Hugging Face config.json (path used in messages).
Config config_from_hf_json(const std::string& config_json_path);
Config config_from_gguf(const GgufFile& gguf);

}  // namespace fare
