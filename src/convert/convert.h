// `fare convert` / `fare quantize`: Hugging Face safetensors, GGUF or random weights in; a GGUF
// file that llama.cpp also loads, or (random weights only) a Hugging Face directory, out.
// Tensors are streamed: the output is written a chunk of rows at a time, so converting an 8B
// model needs memory for a few chunks, not for the model.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace fare {

struct ConvertOptions {
  std::string input;          // a Hugging Face directory or a .gguf file; empty for random weights
  std::string output;         // "*.gguf": a GGUF file; anything else: a Hugging Face directory
  std::string type = "bf16";  // see quant_recipe.h; a Hugging Face output takes f32, f16 or bf16
  std::string random_shape;   // non-empty: random weights of this shape (see parse_shape)
  uint64_t seed = 0;          // random weights: same seed and shape, same bytes
  std::string tokenizer_dir;  // random weights: the tokenizer folder to embed or copy
  int n_threads = 0;          // 0: all CPUs available
  uint64_t shard_bytes = uint64_t{4} << 30;  // Hugging Face output: most tensor bytes per shard
  std::function<void(const std::string& line)> log;  // progress, one line per tensor
};

struct ConvertSummary {
  std::string output;
  size_t n_tensors = 0;
  uint64_t tensor_bytes = 0;              // tensor data written
  std::map<std::string, int> matrix_types;  // stored type -> number of matrices
  double seconds = 0;
};

// Throws fare::Error for bad input: a missing or malformed model, an unknown type or shape key,
// an output the input cannot become.
ConvertSummary convert_model(const ConvertOptions& opts);

}  // namespace fare
