// Flash-style attention for one block of query rows (a few tokens times the query heads of one
// KV head), written once over a vector type V (see float_kernels.h) and instantiated by
// avx2.cpp and avx512.cpp. Keys are visited kLanes at a time: the key tile is transposed so that
// one FMA per head dimension yields kLanes scores, softmax runs online (running maximum and sum
// per row), and the output rows accumulate p * V in registers-sized pieces. Internal linkage:
// see kernels_x86.h.
#pragma once

#include <math.h>

#include <cstdint>
#include <cstring>

#include "ops/attention.h"

namespace fare {
namespace {

namespace fa {

inline float bf16_scalar(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Rows [j0, j0 + n) of kv head `g` as floats, row-major with stride hd, into buf (n <= L).
template <class V>
void load_rows(const KvRows& kv, const void* base, int64_t j0, int64_t n, int64_t kv_stride, int64_t off,
               int64_t hd, float* buf) {
  constexpr int L = V::kLanes;
  for (int64_t j = 0; j < n; ++j) {
    float* dst = buf + j * hd;
    if (kv.type == DType::F32) {
      std::memcpy(dst, static_cast<const float*>(base) + (j0 + j) * kv_stride + off, static_cast<size_t>(hd) * 4);
      continue;
    }
    const auto* src = static_cast<const uint8_t*>(base) + 2 * ((j0 + j) * kv_stride + off);
    int64_t d = 0;
    for (; d + L <= hd; d += L)
      V::storeu(dst + d, kv.type == DType::F16 ? V::template load_half<DType::F16>(src + 2 * d)
                                               : V::template load_half<DType::BF16>(src + 2 * d));
    for (; d < hd; ++d) {
      uint16_t h;
      std::memcpy(&h, src + 2 * d, 2);
      dst[d] = kv.type == DType::F16 ? _cvtsh_ss(h) : bf16_scalar(h);
    }
  }
  for (int64_t j = n; j < L; ++j) std::memset(buf + j * hd, 0, static_cast<size_t>(hd) * 4);
}

// Query rows: token t0 + r / group, head g * group + r % group, for r < (t1 - t0) * group.
template <class V>
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,
            const KvRows& kv, float* out, float* scratch) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  const int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv, kv_stride = s.n_head_kv * hd;
  const int64_t rows = (t1 - t0) * group;
  const float scale = static_cast<float>(1.0 / sqrt(static_cast<double>(hd)));
  float* o = scratch;             // [rows][hd]
  float* mx = o + rows * hd;      // [rows] running maximum
  float* sum = mx + rows;         // [rows] running sum
  float* scores = sum + rows;     // [rows][L] of the current tile
  float* krows = scores + rows * L;  // [L][hd]
  float* kt = krows + L * hd;     // [hd][L]: the key tile transposed
  float* vbuf = kt + L * hd;      // [L][hd]
  for (int64_t i = 0; i < rows * hd; ++i) o[i] = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    mx[r] = -INFINITY;
    sum[r] = 0.0f;
  }
  auto q_row = [&](int64_t r) { return q + ((t0 + r / group) * s.n_head + g * group + r % group) * hd; };
  const int64_t n_keys = pos0 + t1;  // the last token sees the most keys
  for (int64_t j0 = 0; j0 < n_keys; j0 += L) {
    const int64_t nj = n_keys - j0 < L ? n_keys - j0 : L;
    // A full tile of an F32 cache is read in place; others are converted / zero-padded first.
    const float* ksrc = krows;
    const float* vt = vbuf;
    int64_t kstride = hd, vstride = hd;
    if (kv.type == DType::F32 && nj == L) {
      ksrc = static_cast<const float*>(kv.k) + j0 * kv_stride + g * hd;
      vt = static_cast<const float*>(kv.v) + j0 * kv_stride + g * hd;
      kstride = vstride = kv_stride;
    } else {
      load_rows<V>(kv, kv.k, j0, nj, kv_stride, g * hd, hd, krows);
      load_rows<V>(kv, kv.v, j0, nj, kv_stride, g * hd, hd, vbuf);
    }
    for (int64_t d = 0; d + L <= hd; d += L) V::transpose(ksrc + d, kstride, kt + d * L, L);
    for (int64_t d = hd / L * L; d < hd; ++d)
      for (int j = 0; j < L; ++j) kt[d * L + j] = ksrc[j * kstride + d];

    // Scores, four rows at a time: each transposed key row serves all four (8 FMA chains).
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      const float* qr[4] = {q_row(r), q_row(r + 1), q_row(r + 2), q_row(r + 3)};
      F acc[4][2];
      for (auto& a : acc) a[0] = a[1] = V::zero();
      int64_t d = 0;
      for (; d + 2 <= hd; d += 2) {
        const F k0 = V::loadu(kt + d * L), k1 = V::loadu(kt + (d + 1) * L);
        for (int i = 0; i < 4; ++i) {
          acc[i][0] = V::fmadd(V::set1(qr[i][d]), k0, acc[i][0]);
          acc[i][1] = V::fmadd(V::set1(qr[i][d + 1]), k1, acc[i][1]);
        }
      }
      for (int i = 0; i < 4; ++i) {
        if (d < hd) acc[i][0] = V::fmadd(V::set1(qr[i][d]), V::loadu(kt + d * L), acc[i][0]);
        V::storeu(scores + (r + i) * L, V::add(acc[i][0], acc[i][1]));
      }
    }
    for (; r < rows; ++r) {
      const float* qr = q_row(r);
      F acc = V::zero();
      for (int64_t d = 0; d < hd; ++d) acc = V::fmadd(V::set1(qr[d]), V::loadu(kt + d * L), acc);
      V::storeu(scores + r * L, acc);
    }

    for (r = 0; r < rows; ++r) {
      const int64_t limit = pos0 + t0 + r / group + 1 - j0;  // causal: this row sees keys < limit
      if (limit <= 0) continue;
      const int64_t valid = limit < nj ? limit : nj;
      const F sc = V::mask_tail(V::mul(V::loadu(scores + r * L), V::set1(scale)), valid, -INFINITY);
      const float tile_max = V::reduce_max(sc);
      const float m_new = tile_max > mx[r] ? tile_max : mx[r];
      // Online softmax: what was summed under the old maximum shrinks by exp(old - new).
      const float corr = expf(mx[r] - m_new);  // the C function: see kernels_x86.h on inline functions
      const F pv = V::mask_tail(V::exp(V::sub(sc, V::set1(m_new))), valid, 0.0f);
      sum[r] = sum[r] * corr + V::reduce_add(pv);
      mx[r] = m_new;
      float* p = scores + r * L;
      V::storeu(p, pv);
      float* orow = o + r * hd;
      int64_t e = 0;
      // Output pieces of 4 vectors: four FMA chains, one broadcast of p[j] for all four.
      for (; e + 4 * L <= hd; e += 4 * L) {
        F acc[4];
        for (int c = 0; c < 4; ++c) acc[c] = V::mul(V::loadu(orow + e + c * L), V::set1(corr));
        for (int64_t j = 0; j < valid; ++j) {
          const F pj = V::set1(p[j]);
          const float* vj = vt + j * vstride + e;
          for (int c = 0; c < 4; ++c) acc[c] = V::fmadd(pj, V::loadu(vj + c * L), acc[c]);
        }
        for (int c = 0; c < 4; ++c) V::storeu(orow + e + c * L, acc[c]);
      }
      for (; e + L <= hd; e += L) {
        F acc = V::mul(V::loadu(orow + e), V::set1(corr));
        for (int64_t j = 0; j < valid; ++j) acc = V::fmadd(V::set1(p[j]), V::loadu(vt + j * vstride + e), acc);
        V::storeu(orow + e, acc);
      }
      for (; e < hd; ++e) {
        float a = orow[e] * corr;
        for (int64_t j = 0; j < valid; ++j) a += p[j] * vt[j * vstride + e];
        orow[e] = a;
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* dst = out + ((t0 + r / group) * s.n_head + g * group + r % group) * hd;
    const float inv = 1.0f / sum[r];
    for (int64_t e = 0; e < hd; ++e) dst[e] = o[r * hd + e] * inv;
  }
}

}  // namespace fa

}  // namespace
}  // namespace fare
