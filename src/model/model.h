// The read-only model: config, weights (used in place from memory-mapped files), tokenizer
// and chat template. Shared by every Session; nothing here changes after load.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/page_buffer.h"
#include "model/config.h"
#include "ops/matmul.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fare {

class SafetensorsFile;
class GgufFile;

// One expert of a mixture (gpt-oss): a clamped SwiGLU MLP with biases.
struct ExpertWeights {
  WeightMatrix gate, up;  // [n_ff, n_embd]
  WeightMatrix down;      // [n_embd, n_ff]
  std::vector<float> gate_bias, up_bias;  // [n_ff]
  std::vector<float> down_bias;           // [n_embd]
};

struct LayerWeights {
  std::vector<float> attn_norm;  // [n_embd]
  WeightMatrix wq;               // [q_dim, n_embd]
  WeightMatrix wk;               // [kv_dim, n_embd]
  WeightMatrix wv;               // [kv_dim, n_embd]
  WeightMatrix wo;               // [n_embd, q_dim]
  std::vector<float> q_norm;     // [head_dim], shared by all query heads (Qwen3)
  std::vector<float> k_norm;     // [head_dim], shared by all key heads (Qwen3)
  std::vector<float> ffn_norm;   // [n_embd]
  WeightMatrix w_gate;           // [n_ff, n_embd] (Qwen3)
  WeightMatrix w_up;             // [n_ff, n_embd] (Qwen3)
  WeightMatrix w_down;           // [n_embd, n_ff] (Qwen3)

  // gpt-oss
  std::vector<float> bq, bk, bv, bo;  // biases of wq, wk, wv, wo
  std::vector<float> sinks;           // [n_head]: each query head's sink logit
  WeightMatrix router;                // [n_expert, n_embd]
  std::vector<float> router_bias;     // [n_expert]
  std::vector<ExpertWeights> experts;
};

class Model {
 public:
  // A Hugging Face directory (config.json, safetensors, tokenizer.json) or a .gguf file.
  // With `pack_for`, the matrices whose kernels in that set read a packed layout
  // (TypeKernels::packing) are copied into it with that context's threads, and the file pages
  // they came from leave the process's resident set: memory stays at about the weights' size.
  // pack_for: copy the matrices whose type the kernel set reads in a packed layout into it
  // (only the layouts packed by default unless pack_all).
  static std::shared_ptr<const Model> load(const std::string& path, const Compute* pack_for = nullptr,
                                           bool pack_all = true);
  ~Model();

  Config config;
  std::vector<LayerWeights> layers;
  WeightMatrix tok_embd;            // [n_vocab, n_embd]
  std::vector<float> output_norm;   // [n_embd]
  WeightMatrix output;              // [n_vocab, n_embd]; the embedding itself when tied

  std::optional<Tokenizer> tokenizer;
  std::optional<ChatTemplate> chat_template;  // absent when the files have none we can render
  std::string chat_template_error;            // why it is absent
  std::vector<int32_t> eos_ids;               // end-of-generation ids, from the model's files

  std::string path;
  std::string format;  // "safetensors" or "gguf"
  std::map<std::string, int> dtype_counts;  // weight type -> number of matrices, for `fare info`
  size_t weight_bytes = 0;                  // bytes of all weights as stored
  int packed_matrices = 0;                  // matrices held in a kernel's packed layout
  size_t packed_bytes = 0;                  // their bytes in that layout

 private:
  friend class ModelLoader;
  Model();
  void pack(const Compute& cx, bool all);
  std::vector<std::unique_ptr<SafetensorsFile>> st_files_;
  std::unique_ptr<GgufFile> gguf_;
  std::vector<std::unique_ptr<std::vector<float>>> owned_;  // FP8 block scales
  std::vector<PageBuffer> packed_;                          // packed weights
  std::vector<PageBuffer> owned_pages_;                     // weights re-laid at load (gpt-oss's HF experts)
};

}  // namespace fare
