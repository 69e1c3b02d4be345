// Flash-style attention for one block of query rows (a few tokens times the query heads of one
// KV head), written once over a vector type V (see float_kernels.h) and instantiated by
// avx2.cpp and avx512.cpp. Keys are visited two vectors (2 x kLanes) at a time: the key tile is
// transposed so that one FMA per head dimension and half tile yields kLanes scores, softmax runs
// online (running maximum and sum per row), and the output rows accumulate p * V in
// register-sized pieces. Internal linkage: see kernels_x86.h.
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

// Rows [j0, j0 + n) of kv head `g` as floats, row-major with stride hd, into buf, zero rows up
// to `tile` (n <= tile).
template <class V>
void load_rows(const KvRows& kv, const void* base, int64_t j0, int64_t n, int64_t tile, int64_t kv_stride,
               int64_t off, int64_t hd, float* buf) {
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
  for (int64_t j = n; j < tile; ++j) std::memset(buf + j * hd, 0, static_cast<size_t>(hd) * 4);
}

// Keys per tile: two vectors, so each row takes one maximum and one sum per 2 x kLanes keys.
template <class V>
constexpr int64_t kTile = 2 * V::kLanes;

// scores[i * T + j] = q row i . key j for the NR rows qr[i], from the transposed key tile kt
// ([hd][T]): each key row loaded serves all NR rows (2 x NR FMA chains).
template <class V, int NR>
void tile_scores(const float* const* qr, const float* kt, int64_t hd, float* scores) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int64_t T = kTile<V>;
  F acc[NR][2];
  for (auto& a : acc) a[0] = a[1] = V::zero();
  for (int64_t d = 0; d < hd; ++d) {
    const F k0 = V::loadu(kt + d * T), k1 = V::loadu(kt + d * T + L);
    for (int i = 0; i < NR; ++i) {
      const F qd = V::set1(qr[i][d]);
      acc[i][0] = V::fmadd(qd, k0, acc[i][0]);
      acc[i][1] = V::fmadd(qd, k1, acc[i][1]);
    }
  }
  for (int i = 0; i < NR; ++i) {
    V::storeu(scores + i * T, acc[i][0]);
    V::storeu(scores + i * T + L, acc[i][1]);
  }
}

// o[i] = o[i] * corr[i] + sum over j < n of p[i][j] * V row j, for NR rows i (p and o rows ps and
// hd apart): pieces of four vectors, each V row loaded once for all NR rows.
template <class V, int NR>
void accumulate_pv(const float* p, int64_t ps, const float* corr, float* o, int64_t n, const float* vt,
                   int64_t vstride, int64_t hd) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  int64_t e = 0;
  for (; e + 4 * L <= hd; e += 4 * L) {
    F acc[NR][4];
    for (int i = 0; i < NR; ++i)
      for (int c = 0; c < 4; ++c) acc[i][c] = V::mul(V::loadu(o + i * hd + e + c * L), V::set1(corr[i]));
    for (int64_t j = 0; j < n; ++j) {
      const float* vj = vt + j * vstride + e;
      F v[4];
      for (int c = 0; c < 4; ++c) v[c] = V::loadu(vj + c * L);
      for (int i = 0; i < NR; ++i) {
        const F pj = V::set1(p[i * ps + j]);
        for (int c = 0; c < 4; ++c) acc[i][c] = V::fmadd(pj, v[c], acc[i][c]);
      }
    }
    for (int i = 0; i < NR; ++i)
      for (int c = 0; c < 4; ++c) V::storeu(o + i * hd + e + c * L, acc[i][c]);
  }
  for (int i = 0; i < NR; ++i) {
    float* orow = o + i * hd;
    const float* pi = p + i * ps;
    int64_t f = e;
    for (; f + L <= hd; f += L) {
      F acc = V::mul(V::loadu(orow + f), V::set1(corr[i]));
      for (int64_t j = 0; j < n; ++j) acc = V::fmadd(V::set1(pi[j]), V::loadu(vt + j * vstride + f), acc);
      V::storeu(orow + f, acc);
    }
    for (; f < hd; ++f) {
      float a = orow[f] * corr[i];
      for (int64_t j = 0; j < n; ++j) a += pi[j] * vt[j * vstride + f];
      orow[f] = a;
    }
  }
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
  constexpr int64_t T = kTile<V>;
  float* o = scratch;             // [rows][hd]
  float* mx = o + rows * hd;      // [rows] running maximum
  float* sum = mx + rows;         // [rows] running sum
  float* scores = sum + rows;     // [rows][T] of the current tile
  float* krows = scores + rows * T;  // [T][hd]
  float* kt = krows + T * hd;     // [hd][T]: the key tile transposed
  float* vbuf = kt + T * hd;      // [T][hd]
  float* corr = vbuf + T * hd;    // [rows] how much each row's output shrinks in this tile
  for (int64_t i = 0; i < rows * hd; ++i) o[i] = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    mx[r] = -INFINITY;
    sum[r] = 0.0f;
  }
  auto q_row = [&](int64_t r) { return q + ((t0 + r / group) * s.n_head + g * group + r % group) * hd; };
  const int64_t n_keys = pos0 + t1;  // the last token sees the most keys
  for (int64_t j0 = 0; j0 < n_keys; j0 += T) {
    const int64_t nj = n_keys - j0 < T ? n_keys - j0 : T;
    // Keys of this tile row r sees (causal: keys < pos0 + its token + 1).
    auto valid = [&](int64_t r) {
      const int64_t limit = pos0 + t0 + r / group + 1 - j0;
      return limit <= 0 ? int64_t{0} : limit < nj ? limit : nj;
    };
    // A full tile of an F32 cache is read in place; others are converted / zero-padded first.
    const float* ksrc = krows;
    const float* vt = vbuf;
    int64_t kstride = hd, vstride = hd;
    if (kv.type == DType::F32 && nj == T) {
      ksrc = static_cast<const float*>(kv.k) + j0 * kv_stride + g * hd;
      vt = static_cast<const float*>(kv.v) + j0 * kv_stride + g * hd;
      kstride = vstride = kv_stride;
    } else {
      load_rows<V>(kv, kv.k, j0, nj, T, kv_stride, g * hd, hd, krows);
      load_rows<V>(kv, kv.v, j0, nj, T, kv_stride, g * hd, hd, vbuf);
    }
    for (int h = 0; h < 2; ++h) {
      const float* kh = ksrc + h * L * kstride;
      for (int64_t d = 0; d + L <= hd; d += L) V::transpose(kh + d, kstride, kt + d * T + h * L, T);
      for (int64_t d = hd / L * L; d < hd; ++d)
        for (int j = 0; j < L; ++j) kt[d * T + h * L + j] = kh[j * kstride + d];
    }

    // Scores, four rows at a time, then the rows left one by one.
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      const float* qr[4] = {q_row(r), q_row(r + 1), q_row(r + 2), q_row(r + 3)};
      tile_scores<V, 4>(qr, kt, hd, scores + r * T);
    }
    for (; r < rows; ++r) {
      const float* qr[1] = {q_row(r)};
      tile_scores<V, 1>(qr, kt, hd, scores + r * T);
    }

    // Softmax of each row's scores; p (in place of the scores) and the factor its output shrinks by.
    for (r = 0; r < rows; ++r) {
      const int64_t n = valid(r);
      if (n == 0) continue;
      const int64_t n0 = n < L ? n : L, n1 = n - n0;
      float* sr = scores + r * T;
      const F sc0 = V::mask_tail(V::mul(V::loadu(sr), V::set1(scale)), n0, -INFINITY);
      const F sc1 = V::mask_tail(V::mul(V::loadu(sr + L), V::set1(scale)), n1, -INFINITY);
      const float tile_max = V::reduce_max(V::max(sc0, sc1));
      const float m_new = tile_max > mx[r] ? tile_max : mx[r];
      // Online softmax: what was summed under the old maximum shrinks by exp(old - new).
      // expf(0) is exactly 1: the call is skipped in the usual case of an unchanged maximum.
      corr[r] = m_new == mx[r] ? 1.0f : expf(mx[r] - m_new);  // the C function: see kernels_x86.h
      const F p0 = V::mask_tail(V::exp(V::sub(sc0, V::set1(m_new))), n0, 0.0f);
      const F p1 = V::mask_tail(V::exp(V::sub(sc1, V::set1(m_new))), n1, 0.0f);
      sum[r] = sum[r] * corr[r] + V::reduce_add(V::add(p0, p1));
      mx[r] = m_new;
      V::storeu(sr, p0);
      V::storeu(sr + L, p1);
    }
    // p x V: several rows at once where they see the same keys (the query heads of one token),
    // so each V row loaded serves all of them; each row's arithmetic is the same either way. Four
    // rows (16 accumulators) with 32 vector registers, two with 16 (AVX2).
    constexpr int kRows = V::kRegisters >= 32 ? 4 : 2;
    for (r = 0; r < rows;) {
      const int64_t n = valid(r);
      if (r + kRows <= rows && n > 0 && valid(r + kRows - 1) == n) {  // valid() never falls as r grows
        accumulate_pv<V, kRows>(scores + r * T, T, corr + r, o + r * hd, n, vt, vstride, hd);
        r += kRows;
      } else {
        if (n > 0) accumulate_pv<V, 1>(scores + r * T, T, corr + r, o + r * hd, n, vt, vstride, hd);
        r += 1;
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
