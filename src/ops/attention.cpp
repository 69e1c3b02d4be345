#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/half.h"
#include "common/thread_pool.h"
#include "ops/kernels.h"
#include "ops/matmul.h"

namespace fare {

namespace {

constexpr int64_t kKeyTile = kMaxKeyTile;  // keys per tile: scores of a tile stay in L1
// Query tokens processed together (times the heads of a group): each key tile, transposed once,
// serves all their rows, and each tile is read from the cache once for all of them. 8 instead of
// 4: pp2048 of an 8-layer Q8_0 model 0-4 % faster, the same logits; 16 instead of 8: pp2048 of
// the 8-layer BF16 model with attention's products in bf16 2-2.5 % faster (measured with every
// tile converted from an F32 cache), Q8_0 within noise; 32 instead of 16, once the tiles were
// copied from the cache: Q8_0 pp4096 +2.4-2.6 %, pp512 +1.2-1.8 %, the same logits (alternated,
// 2 threads).
constexpr int64_t kTokenBlock = 32;

// Rows [j0, j0 + n) of one kv head as floats: a pointer into the cache for F32, else decoded
// into `buf` (then the row stride is hd).
const float* kv_tile(const KvRows& kv, const void* base, int64_t j0, int64_t n, int64_t stride, int64_t offset,
                     int64_t hd, float* buf) {
  if (kv.type == DType::F32) return static_cast<const float*>(base) + j0 * stride + offset;
  const auto* src = static_cast<const uint8_t*>(base);
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* row = src + 2 * ((j0 + j) * stride + offset);
    float* dst = buf + j * hd;
    for (int64_t d = 0; d < hd; ++d) {
      uint16_t h;
      std::memcpy(&h, row + 2 * d, 2);
      dst[d] = kv.type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
  }
  return buf;
}

}  // namespace

void attend_reference(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,
                      const KvRows& kv, float* out, float* scratch) {
  const int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv, kv_stride = s.n_head_kv * hd;
  const int64_t rows = (t1 - t0) * group;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  float* o = scratch;                    // [rows][hd]
  float* mx = o + rows * hd;             // [rows] running maximum
  float* sum = mx + rows;                // [rows] running sum
  float* scores = sum + rows;            // [rows][kKeyTile]
  float* kbuf = scores + rows * kKeyTile;  // [kKeyTile][hd] when the cache is not F32
  float* vbuf = kbuf + kKeyTile * hd;
  auto q_row = [&](int64_t r) { return q + ((t0 + r / group) * s.n_head + g * group + r % group) * hd; };
  std::fill(o, o + rows * hd, 0.0f);
  std::fill(mx, mx + rows, -std::numeric_limits<float>::infinity());
  std::fill(sum, sum + rows, 0.0f);
  const int64_t n_keys = pos0 + t1;  // the last token sees the most keys
  const int64_t step = kv.type == DType::F32 ? kv_stride : hd;
  for (int64_t j0 = 0; j0 < n_keys; j0 += kKeyTile) {
    const int64_t nj = std::min(kKeyTile, n_keys - j0);
    const float* kt = kv_tile(kv, kv.k, j0, nj, kv_stride, g * hd, hd, kbuf);
    const float* vt = kv_tile(kv, kv.v, j0, nj, kv_stride, g * hd, hd, vbuf);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t limit = std::min(nj, pos0 + t0 + r / group + 1 - j0);  // causal: keys < limit
      if (limit <= 0) continue;
      float* sr = scores + r * kKeyTile;
      float m = mx[r];
      for (int64_t j = 0; j < limit; ++j) {
        sr[j] = dot_f32(q_row(r), kt + j * step, hd) * scale;
        m = std::max(m, sr[j]);
      }
      // Online softmax: what was summed under the old maximum shrinks by exp(old - new).
      const float corr = std::exp(mx[r] - m);
      float l = sum[r] * corr;
      for (int64_t j = 0; j < limit; ++j) l += (sr[j] = std::exp(sr[j] - m));
      mx[r] = m;
      sum[r] = l;
      float* orow = o + r * hd;
      for (int64_t d = 0; d < hd; ++d) orow[d] *= corr;
      for (int64_t j = 0; j < limit; ++j) {
        const float p = sr[j];
        const float* vj = vt + j * step;
        for (int64_t d = 0; d < hd; ++d) orow[d] += p * vj[d];
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = out + ((t0 + r / group) * s.n_head + g * group + r % group) * hd;
    const float inv = 1.0f / sum[r];
    for (int64_t d = 0; d < hd; ++d) dst[d] = o[r * hd + d] * inv;
  }
}

void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const KvRows& kv, float* out,
               const Compute& cx) {
  const AttendFn attend = cx.kernels->attend != nullptr ? cx.kernels->attend : attend_reference;
  const int64_t group = s.n_head / s.n_head_kv;
  const int64_t n_blocks = (n_tokens + kTokenBlock - 1) / kTokenBlock;
  // Work items are (token block, kv head); later blocks see more keys, so the pool's small
  // chunks keep the threads evenly loaded.
  const auto floats = static_cast<size_t>(attention_scratch_floats(std::min(n_tokens, kTokenBlock) * group, s.head_dim));
  cx.pool->parallel_for(n_blocks * s.n_head_kv, 1, [&](int64_t i0, int64_t i1) {
    // Kept per thread, so that no call allocates (the kernels initialize what they read).
    thread_local std::vector<float> scratch;
    if (scratch.size() < floats) scratch.resize(floats);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / s.n_head_kv, g = i % s.n_head_kv;
      attend(s, q, b * kTokenBlock, std::min(n_tokens, (b + 1) * kTokenBlock), g, pos0, kv, out, scratch.data());
    }
  });
}

}  // namespace fare
