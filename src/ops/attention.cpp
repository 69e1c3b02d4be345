#include "ops/attention.h"

#include <cmath>
#include <vector>

#include "common/thread_pool.h"
#include "ops/math.h"
#include "ops/matmul.h"

namespace fare {

void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const float* k_cache,
               const float* v_cache, float* out, ThreadPool& pool) {
  const int64_t hd = s.head_dim;
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t kv_stride = s.n_head_kv * hd;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  pool.parallel_for(n_tokens * s.n_head, 1, [&](int64_t i0, int64_t i1) {
    std::vector<float> scores;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t t = i / s.n_head, h = i % s.n_head, kvh = h / group;
      const int64_t n_keys = pos0 + t + 1;
      const float* qh = q + (t * s.n_head + h) * hd;
      scores.resize(static_cast<size_t>(n_keys));
      for (int64_t j = 0; j < n_keys; ++j) scores[j] = dot_f32(qh, k_cache + j * kv_stride + kvh * hd, hd) * scale;
      softmax(scores.data(), n_keys);
      float* oh = out + (t * s.n_head + h) * hd;
      for (int64_t d = 0; d < hd; ++d) oh[d] = 0;
      for (int64_t j = 0; j < n_keys; ++j) {
        const float* vj = v_cache + j * kv_stride + kvh * hd;
        const float p = scores[j];
        for (int64_t d = 0; d < hd; ++d) oh[d] += p * vj[d];
      }
    }
  });
}

}  // namespace fare
