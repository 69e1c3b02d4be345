// Element and block types of weights as they are stored in files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fare {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F8_E4M3,  // e4m3fn, with a separate per-128x128-block scale (Qwen FP8 releases)
  Q8_0,     // ggml: 32 values, fp16 d + 32 int8
  Q4_0,     // ggml: 32 values, fp16 d + 16 bytes of nibbles (q - 8)
  Q4_K,     // ggml: 256 values, super-block with 6-bit scales and mins
  Q5_K,     // ggml: 256 values, Q4_K plus one high bit per value
  Q6_K,     // ggml: 256 values, 6-bit values with int8 scales
  Q8_K,     // ggml: 256 values, f32 d + int8 + block sums (activations)
  MXFP4,    // ggml: 32 values, e8m0 exponent byte + 16 bytes of e2m1 nibbles (gpt-oss experts)
  U8,       // safetensors: raw bytes (gpt-oss ships its MXFP4 blocks and scales as U8 tensors)
  I8,
  I16,
  I32,
  I64,
  F64,
};

struct DTypeTraits {
  std::string_view name;  // ggml / safetensors spelling
  int block_elems;        // values per block (1 for plain types)
  int block_bytes;        // bytes per block
  bool is_quantized;
};

const DTypeTraits& traits(DType t);
inline std::string_view name(DType t) { return traits(t).name; }

// Bytes of a row of n values; n must be a multiple of the block size (checked by callers).
inline size_t row_bytes(DType t, int64_t n) {
  const auto& tr = traits(t);
  return static_cast<size_t>(n / tr.block_elems) * static_cast<size_t>(tr.block_bytes);
}

// The GGML type id of a type, and back; nullopt for types GGUF files cannot hold here.
std::optional<DType> dtype_from_ggml(uint32_t ggml_type);
std::optional<uint32_t> ggml_type_id(DType t);
// Safetensors dtype strings ("F32", "BF16", "F8_E4M3", ...).
std::optional<DType> dtype_from_safetensors(std::string_view s);

}  // namespace fare
