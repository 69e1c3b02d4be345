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

// Rows [j0, j0 + n) of kv head g as floats, hd apart, decoded into buf. The plain version
// copies even F32 rows: it is the oracle, not the fast path.
const float* kv_tile(const KvRows& kv, bool values, int64_t j0, int64_t n, int64_t g, int64_t hd, float* buf) {
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* row = values ? kv.v_row(j0 + j, g) : kv.k_row(j0 + j, g);
    float* dst = buf + j * hd;
    if (kv.type == DType::F32) {
      std::memcpy(dst, row, static_cast<size_t>(hd) * 4);
      continue;
    }
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
  const int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv;
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
  const int64_t first = s.first_key(pos0 + t0) / kKeyTile * kKeyTile;  // the first token the earliest
  for (int64_t j0 = first; j0 < n_keys; j0 += kKeyTile) {
    const int64_t nj = std::min(kKeyTile, n_keys - j0);
    const float* kt = kv_tile(kv, false, j0, nj, g, hd, kbuf);
    const float* vt = kv_tile(kv, true, j0, nj, g, hd, vbuf);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t p = pos0 + t0 + r / group;
      const int64_t lo = std::max<int64_t>(0, s.first_key(p) - j0);  // keys [lo, limit) of this tile
      const int64_t limit = std::min(nj, p + 1 - j0);
      if (limit <= lo) continue;
      float* sr = scores + r * kKeyTile;
      float m = mx[r];
      for (int64_t j = lo; j < limit; ++j) {
        sr[j] = dot_f32(q_row(r), kt + j * hd, hd) * scale;
        m = std::max(m, sr[j]);
      }
      // Online softmax: what was summed under the old maximum shrinks by exp(old - new).
      const float corr = std::exp(mx[r] - m);
      float l = sum[r] * corr;
      for (int64_t j = lo; j < limit; ++j) l += (sr[j] = std::exp(sr[j] - m));
      mx[r] = m;
      sum[r] = l;
      float* orow = o + r * hd;
      for (int64_t d = 0; d < hd; ++d) orow[d] *= corr;
      for (int64_t j = lo; j < limit; ++j) {
        const float p_j = sr[j];
        const float* vj = vt + j * hd;
        for (int64_t d = 0; d < hd; ++d) orow[d] += p_j * vj[d];
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t h = g * group + r % group;
    float* dst = out + ((t0 + r / group) * s.n_head + h) * hd;
    const float denominator = s.sinks != nullptr ? sum[r] + std::exp(s.sinks[h] - mx[r]) : sum[r];
    const float inv = 1.0f / denominator;
    for (int64_t d = 0; d < hd; ++d) dst[d] = o[r * hd + d] * inv;
  }
}

void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const KvRows& kv, float* out,
               const Compute& cx) {
  const AttentionSegment one{0, n_tokens, pos0, kv};
  attention(s, q, std::span<const AttentionSegment>(&one, 1), out, cx);
}

void attention(const AttentionShape& s, const float* q, std::span<const AttentionSegment> segments, float* out,
               const Compute& cx) {
  const AttendFn attend = cx.kernels->attend != nullptr ? cx.kernels->attend : attend_reference;
  const int64_t group = s.n_head / s.n_head_kv, row_floats = s.n_head * s.head_dim;
  // Work items are (segment, token block, kv head), numbered segment by segment; later blocks see
  // more keys, so the pool's small chunks keep the threads evenly loaded.
  std::vector<int64_t> first_item(segments.size() + 1, 0);
  int64_t max_rows = 1;
  for (size_t i = 0; i < segments.size(); ++i) {
    const int64_t n = segments[i].n_tokens;
    first_item[i + 1] = first_item[i] + (n + kTokenBlock - 1) / kTokenBlock * s.n_head_kv;
    max_rows = std::max(max_rows, std::min(n, kTokenBlock));
  }
  const auto floats = static_cast<size_t>(attention_scratch_floats(max_rows * group, s.head_dim));
  cx.pool->parallel_for(first_item.back(), 1, [&](int64_t i0, int64_t i1) {
    // Kept per thread, so that no call allocates (the kernels initialize what they read).
    thread_local std::vector<float> scratch;
    if (scratch.size() < floats) scratch.resize(floats);
    size_t seg = 0;
    for (int64_t i = i0; i < i1; ++i) {
      while (first_item[seg + 1] <= i) ++seg;
      const AttentionSegment& sg = segments[seg];
      const int64_t local = i - first_item[seg], b = local / s.n_head_kv, g = local % s.n_head_kv;
      attend(s, q + sg.t0 * row_floats, b * kTokenBlock, std::min(sg.n_tokens, (b + 1) * kTokenBlock), g, sg.pos0,
             sg.kv, out + sg.t0 * row_floats, scratch.data());
    }
  });
}

}  // namespace fare
