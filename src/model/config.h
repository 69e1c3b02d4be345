// Qwen3 hyper-parameters, read from config.json or GGUF metadata and validated once at load.
#pragma once

#include <cstdint>
#include <string>

namespace fare {

class GgufFile;

struct Config {
  std::string architecture;  // "qwen3"
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
