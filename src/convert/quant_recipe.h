// Which stored type each tensor gets for a requested output type (`--type`).
//
// f32/f16/bf16/q8_0/q4_0/q6_k: every matrix in that type ("pure"; llama.cpp would also turn a
// Q4_0 file's output matrix into Q6_K). q4_k_m follows llama.cpp's Q4_K_M recipe: Q4_K, except
// output.weight (token_embd.weight when tied) in Q6_K, and attn_v and ffn_down in Q6_K on the
// layers llama.cpp's use_more_bits() picks (the first and last eighth, and every third between).
// Norm vectors are always F32. A matrix whose rows are not whole blocks falls back to Q8_0
// (rows a multiple of 32) or F16, as llama.cpp also falls back for such shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"

namespace fare {

enum class OutputType { F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q6_K };

// "q8_0" -> Q8_0; throws fare::Error listing the accepted names.
OutputType parse_output_type(const std::string& name);
std::string output_type_name(OutputType t);
// The llama_ftype number llama.cpp writes as general.file_type.
uint32_t llama_file_type(OutputType t);

// The stored type of one tensor. `layer` is its block index (-1 outside blocks), `n_layer` the
// block count; `name` is the GGUF name.
DType tensor_type(OutputType t, const std::string& name, const std::vector<int64_t>& shape, int layer, int n_layer,
                  bool tied_embeddings);

}  // namespace fare
