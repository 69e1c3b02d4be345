// Per-sequence key/value cache: for each layer, K and V rows of kv_dim floats per position.
#pragma once

#include <cstdint>
#include <vector>

namespace fare {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int kv_dim)
      : n_ctx_(n_ctx), kv_dim_(kv_dim), k_(static_cast<size_t>(n_layer)), v_(static_cast<size_t>(n_layer)) {
    for (auto* side : {&k_, &v_})
      for (auto& layer : *side) layer.assign(static_cast<size_t>(n_ctx) * kv_dim, 0.0f);
  }

  int n_ctx() const { return n_ctx_; }
  float* k(int layer, int pos) { return k_[layer].data() + static_cast<size_t>(pos) * kv_dim_; }
  float* v(int layer, int pos) { return v_[layer].data() + static_cast<size_t>(pos) * kv_dim_; }
  size_t bytes() const { return 2 * k_.size() * static_cast<size_t>(n_ctx_) * kv_dim_ * sizeof(float); }

 private:
  int n_ctx_;
  int kv_dim_;
  std::vector<std::vector<float>> k_;  // [n_layer][n_ctx * kv_dim]
  std::vector<std::vector<float>> v_;
};

}  // namespace fare
