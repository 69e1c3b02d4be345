// A model's tensors (Qwen3, gpt-oss) under their GGUF names, read row by row as float, whatever holds
// them: a Hugging Face directory (BF16/F16/F32 or block-FP8 safetensors, one file or shards),
// a GGUF file of any supported type, or a seeded random generator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "model/config.h"

namespace fare {

struct SourceTensor {
  std::string name;            // GGUF name: "blk.3.attn_q.weight"
  std::string hf_name;         // Hugging Face name: "model.layers.3.self_attn.q_proj.weight"
  std::vector<int64_t> shape;  // outermost first: [rows, cols], [experts, rows, cols], or [n] for a vector
  DType stored = DType::F32;   // as the source holds it

  bool is_vector() const { return shape.size() == 1; }
  int64_t rows() const {  // all but the last dimension (a stack of matrices is its rows one after the other)
    int64_t r = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
    return r;
  }
  int64_t cols() const { return shape.back(); }
};

// Every tensor of a Qwen3 model with this config, in llama.cpp's file order: token_embd, then
// each block (attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_norm, attn_k_norm,
// ffn_norm, ffn_gate, ffn_up, ffn_down), output_norm, and output unless the embedding is tied.
std::vector<SourceTensor> qwen3_tensors(const Config& c);
// gpt-oss, as llama.cpp's converter writes it: token_embd, then each block (attn_norm, attn_q,
// attn_k, attn_v, attn_output with their biases, attn_sinks, post_attention_norm, the router
// ffn_gate_inp and its bias, ffn_gate_exps, ffn_up_exps, ffn_down_exps with their biases),
// output_norm, output. No Hugging Face names: its layout (MXFP4 blocks, gate and up interleaved)
// is not written by this tool.
std::vector<SourceTensor> gpt_oss_tensors(const Config& c);
// The one of the two the config's architecture is.
std::vector<SourceTensor> model_tensors(const Config& c);

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual const Config& config() const = 0;
  virtual const std::vector<SourceTensor>& tensors() const = 0;
  // Rows [r0, r1) of tensor `index` as float, [r1 - r0][cols]. Safe to call from many threads.
  virtual void read_rows(size_t index, int64_t r0, int64_t r1, float* dst) const = 0;
  virtual std::string describe() const = 0;  // for messages
};

// Throws fare::Error naming the file when a tensor is missing or has the wrong shape or type.
std::unique_ptr<WeightSource> open_hf_source(const std::string& dir);
std::unique_ptr<WeightSource> open_gguf_source(const std::string& path);

}  // namespace fare
