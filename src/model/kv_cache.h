// Per-sequence key/value cache: for each layer, K and V rows of kv_dim values per position,
// stored as F32, or as F16 / BF16 to halve the memory (rounded once, when written).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "ops/attention.h"

namespace fare {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int kv_dim, DType type = DType::F32)
      : n_ctx_(n_ctx),
        kv_dim_(kv_dim),
        type_(type),
        k_(static_cast<size_t>(n_layer)),
        v_(static_cast<size_t>(n_layer)) {
    if (type != DType::F32 && type != DType::F16 && type != DType::BF16)
      fail("a KV cache holds F32, F16 or BF16 values, not ", name(type));
    for (auto* side : {&k_, &v_})
      for (auto& layer : *side) layer.assign(static_cast<size_t>(n_ctx) * kv_dim * elem_bytes(), 0);
  }

  int n_ctx() const { return n_ctx_; }
  DType type() const { return type_; }
  size_t bytes() const { return 2 * k_.size() * static_cast<size_t>(n_ctx_) * kv_dim_ * elem_bytes(); }

  // Writes n positions of K and V rows (kv_dim floats each) from position pos on.
  void store(int layer, int pos, int n, const float* k, const float* v) {
    FARE_CHECK(pos >= 0 && pos + n <= n_ctx_);
    const size_t off = static_cast<size_t>(pos) * kv_dim_, count = static_cast<size_t>(n) * kv_dim_;
    store_values(k, k_[layer].data() + off * elem_bytes(), count);
    store_values(v, v_[layer].data() + off * elem_bytes(), count);
  }

  // One layer's rows as attention reads them.
  KvRows rows(int layer) const { return {type_, k_[layer].data(), v_[layer].data()}; }

 private:
  size_t elem_bytes() const { return type_ == DType::F32 ? 4 : 2; }

  void store_values(const float* src, uint8_t* dst, size_t n) const {
    if (type_ == DType::F32) {
      std::memcpy(dst, src, n * 4);
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint16_t h = type_ == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  }

  int n_ctx_;
  int kv_dim_;
  DType type_;
  std::vector<std::vector<uint8_t>> k_;  // [n_layer][n_ctx * kv_dim values]
  std::vector<std::vector<uint8_t>> v_;
};

}  // namespace fare
