#include "convert/quant_recipe.h"

#include <array>

#include "common/error.h"

namespace fare {

namespace {

struct TypeName {
  OutputType type;
  const char* name;
  uint32_t ftype;  // llama_ftype
};
constexpr std::array<TypeName, 7> kTypes = {{
    {OutputType::F32, "f32", 0},    {OutputType::F16, "f16", 1},       {OutputType::BF16, "bf16", 32},
    {OutputType::Q8_0, "q8_0", 7},  {OutputType::Q4_0, "q4_0", 2},     {OutputType::Q4_K_M, "q4_k_m", 15},
    {OutputType::Q6_K, "q6_k", 18},
}};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// llama.cpp's choice of the layers that keep more bits in its *_M recipes.
bool use_more_bits(int layer, int n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

DType fit(DType want, int64_t cols) {
  if (cols % traits(want).block_elems == 0) return want;
  return cols % traits(DType::Q8_0).block_elems == 0 ? DType::Q8_0 : DType::F16;
}

}  // namespace

OutputType parse_output_type(const std::string& name) {
  std::string known;
  for (const auto& t : kTypes) {
    if (name == t.name) return t.type;
    known += known.empty() ? t.name : std::string(", ") + t.name;
  }
  fail("unknown output type '", name, "' (expected one of: ", known, ")");
}

std::string output_type_name(OutputType t) {
  for (const auto& k : kTypes)
    if (k.type == t) return k.name;
  FARE_CHECK(false);
  return {};
}

uint32_t llama_file_type(OutputType t) {
  for (const auto& k : kTypes)
    if (k.type == t) return k.ftype;
  FARE_CHECK(false);
  return 0;
}

DType tensor_type(OutputType t, const std::string& name, const std::vector<int64_t>& shape, int layer, int n_layer,
                  bool tied_embeddings) {
  if (shape.size() == 1) return DType::F32;
  const int64_t cols = shape.back();
  // gpt-oss, as llama.cpp converts it: the biases and the router in F32, the experts in MXFP4
  // (their type in the release) unless everything is F32.
  if (ends_with(name, ".bias") || ends_with(name, ".ffn_gate_inp.weight")) return DType::F32;
  if (ends_with(name, "_exps.weight")) return t == OutputType::F32 ? DType::F32 : fit(DType::MXFP4, cols);
  switch (t) {
    case OutputType::F32: return DType::F32;
    case OutputType::F16: return DType::F16;
    case OutputType::BF16: return DType::BF16;
    case OutputType::Q8_0: return fit(DType::Q8_0, cols);
    case OutputType::Q4_0: return fit(DType::Q4_0, cols);
    case OutputType::Q6_K: return fit(DType::Q6_K, cols);
    case OutputType::Q4_K_M: break;
  }
  const bool is_output = name == "output.weight" || (tied_embeddings && name == "token_embd.weight");
  const bool more_bits = layer >= 0 && use_more_bits(layer, n_layer) &&
                         (ends_with(name, ".attn_v.weight") || ends_with(name, ".ffn_down.weight"));
  return fit(is_output || more_bits ? DType::Q6_K : DType::Q4_K, cols);
}

}  // namespace fare
