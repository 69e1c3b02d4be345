// Flash-style attention for one block of query rows (a few tokens times the query heads of one
// KV head), written once over a vector type V (see float_kernels.h) and instantiated by
// avx2.cpp and avx512.cpp. Keys are visited two vectors (2 x kLanes) at a time: the key tile is
// transposed so that one FMA per head dimension and half tile yields kLanes scores, softmax runs
// online (running maximum and sum per row), and the output rows accumulate p * V in
// register-sized pieces. The two products over a tile come from a Tiles class: FloatTiles here,
// or a set's own (avx512_bf16_attention.cpp). Internal linkage: see kernels_x86.h.
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

// Rows [j0, j0 + n) of kv head `g` (keys, or values when `values`) as floats, row-major with
// stride hd, into buf, zero rows up to `tile` (n <= tile).
template <class V>
void load_rows(const KvRows& kv, bool values, int64_t j0, int64_t n, int64_t tile, int64_t g, int64_t hd, float* buf) {
  constexpr int L = V::kLanes;
  for (int64_t j = 0; j < n; ++j) {
    float* dst = buf + j * hd;
    const uint8_t* src = values ? kv.v_row(j0 + j, g) : kv.k_row(j0 + j, g);
    if (kv.type == DType::F32) {
      std::memcpy(dst, src, static_cast<size_t>(hd) * 4);
      continue;
    }
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

inline constexpr float kOnes[8] = {1, 1, 1, 1, 1, 1, 1, 1};

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

// Value e of V row `row` (values of type S: F32, or F16 / BF16 widened exactly), as a vector
// from e or as one float.
template <class V, DType S>
inline typename V::F load_v(const uint8_t* row, int64_t e) {
  if constexpr (S == DType::F32) return V::loadu(reinterpret_cast<const float*>(row) + e);
  else return V::template load_half<S>(row + 2 * e);
}
template <DType S>
inline float v_scalar(const uint8_t* row, int64_t e) {
  if constexpr (S == DType::F32) {
    float f;
    std::memcpy(&f, row + 4 * e, 4);
    return f;
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * e, 2);
    return S == DType::F16 ? _cvtsh_ss(h) : bf16_scalar(h);
  }
}

// o[i] = o[i] * corr[i] + sum over j < n of p[i][j] * V row j, for NR rows i (p rows ps apart, o
// rows hd apart, V rows of type S hd values apart from vt): pieces of four vectors, each V row
// loaded once for all NR rows.
template <class V, int NR, DType S = DType::F32>
void accumulate_pv(const float* p, int64_t ps, const float* corr, float* o, int64_t n, const uint8_t* vt,
                   int64_t hd) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  const int64_t vs = hd * (S == DType::F32 ? 4 : 2);  // bytes from one V row to the next
  int64_t e = 0;
  for (; e + 4 * L <= hd; e += 4 * L) {
    F acc[NR][4];
    for (int i = 0; i < NR; ++i)
      for (int c = 0; c < 4; ++c) acc[i][c] = V::mul(V::loadu(o + i * hd + e + c * L), V::set1(corr[i]));
    for (int64_t j = 0; j < n; ++j) {
      const uint8_t* vj = vt + j * vs;
      F v[4];
      for (int c = 0; c < 4; ++c) v[c] = load_v<V, S>(vj, e + c * L);
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
      for (int64_t j = 0; j < n; ++j) acc = V::fmadd(V::set1(pi[j]), load_v<V, S>(vt + j * vs, f), acc);
      V::storeu(orow + f, acc);
    }
    for (; f < hd; ++f) {
      float a = orow[f] * corr[i];
      for (int64_t j = 0; j < n; ++j) a += pi[j] * v_scalar<S>(vt + j * vs, f);
      orow[f] = a;
    }
  }
}

// The products of attention on float values: query rows read in place, the key tile
// transposed to [hd][T] floats, V rows copied (and converted from F16 / BF16).
template <class V>
class FloatTiles {
 public:
  static constexpr int64_t T = kTile<V>;
  // Rows that share their keys, taken together by p x V: four (16 accumulators) with 32 vector
  // registers, two with 16 (AVX2).
  static constexpr int kPvRows = V::kRegisters >= 32 ? 4 : 2;

  FloatTiles(const AttentionShape& s, const float* q, int64_t t0, int64_t /*rows*/, int64_t g, float* scratch)
      : s_(s), q_(q), t0_(t0), g_(g), krows_(scratch), kt_(krows_ + T * s.head_dim), vbuf_(kt_ + T * s.head_dim) {}

  // The keys and values [j0, j0 + nj) of kv head g as floats, in rows of hd, zero rows past nj.
  // A half tile (kLanes keys) that lies whole in one block is read in place, as the cache holds a
  // block's rows of one head one after the other (KvRows): its keys when they are F32 (F16 / BF16
  // keys are widened into the tile first), its values of any type (widened as p x V reads them).
  // Copying a decode step's rows first had it wait on memory in the copy (21 % of a run of 16
  // judgments with 8 in flight went to memcpy) and then read them again from L1.
  void load(const KvRows& kv, int64_t j0, int64_t nj) {
    constexpr int L = V::kLanes;
    const int64_t hd = s_.head_dim;
    for (int h = 0; h < 2; ++h) {
      const int64_t jh = j0 + h * L, nh = nj - h * L < 0 ? 0 : nj - h * L < L ? nj - h * L : L;
      const int64_t es = kv.type == DType::F32 ? 4 : 2;
      const bool in_place =
          nh == L && kv.row_bytes == hd * es && (jh >> kv.block_shift) == ((jh + L - 1) >> kv.block_shift);
      const float* kh = krows_ + h * L * hd;
      if (in_place && kv.type == DType::F32) kh = reinterpret_cast<const float*>(kv.k_row(jh, g_));
      else load_rows<V>(kv, false, jh, nh, L, g_, hd, krows_ + h * L * hd);
      if (in_place) {
        v_[h] = kv.v_row(jh, g_);
        v_type_[h] = kv.type;
      } else {
        load_rows<V>(kv, true, jh, nh, L, g_, hd, vbuf_ + h * L * hd);
        v_[h] = reinterpret_cast<const uint8_t*>(vbuf_ + h * L * hd);
        v_type_[h] = DType::F32;
      }
      for (int64_t d = 0; d + L <= hd; d += L) V::transpose(kh + d, hd, kt_ + d * T + h * L, T);
      for (int64_t d = hd / L * L; d < hd; ++d)
        for (int j = 0; j < L; ++j) kt_[d * T + h * L + j] = kh[j * hd + d];
    }
  }

  // scores[i * T + j] = query row r + i . key j, for NR rows.
  template <int NR>
  void scores(int64_t r, float* scores) const {
    const float* qr[NR];
    for (int i = 0; i < NR; ++i) qr[i] = q_row(r + i);
    tile_scores<V, NR>(qr, kt_, s_.head_dim, scores);
  }

  // o[i] = o[i] * corr[i] + sum over j < n of p[i][j] * V row j, for NR rows (p rows T apart).
  // The halves one after the other: the second scales by 1 (exact), so every output element
  // takes the same operations in the same order as over one run of rows.
  template <int NR>
  void accumulate(int64_t, const float* p, const float* corr, float* o, int64_t n) const {
    constexpr int L = V::kLanes;
    static_assert(NR <= 8);
    accumulate_half<NR>(0, p, corr, o, n < L ? n : L);
    if (n > L) accumulate_half<NR>(1, p + L, kOnes, o, n - L);
  }

 private:
  const float* q_row(int64_t r) const {
    const int64_t group = s_.n_head / s_.n_head_kv;
    return q_ + ((t0_ + r / group) * s_.n_head + g_ * group + r % group) * s_.head_dim;
  }

  const AttentionShape& s_;
  const float* q_;
  int64_t t0_, g_;
  float* krows_;  // [T][hd]
  float* kt_;     // [hd][T]: the key tile transposed
  float* vbuf_;   // [T][hd]
  template <int NR>
  void accumulate_half(int h, const float* p, const float* corr, float* o, int64_t n) const {
    const int64_t hd = s_.head_dim;
    switch (v_type_[h]) {
      case DType::F16: return accumulate_pv<V, NR, DType::F16>(p, T, corr, o, n, v_[h], hd);
      case DType::BF16: return accumulate_pv<V, NR, DType::BF16>(p, T, corr, o, n, v_[h], hd);
      default: return accumulate_pv<V, NR>(p, T, corr, o, n, v_[h], hd);
    }
  }

  // Each half tile's V rows: floats in vbuf_, or the cache's own rows of v_type_.
  const uint8_t* v_[2] = {};
  DType v_type_[2] = {DType::F32, DType::F32};
};

// Query rows: token t0 + r / group, head g * group + r % group, for r < (t1 - t0) * group.
// Tiles: the products over one key tile at a time (FloatTiles, or rounded ones of a kernel set).
template <class V, class Tiles = FloatTiles<V>>
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,
            const KvRows& kv, float* out, float* scratch) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int64_t T = Tiles::T;
  static_assert(T == 2 * L);
  const int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv;
  const int64_t rows = (t1 - t0) * group;
  const float scale = static_cast<float>(1.0 / sqrt(static_cast<double>(hd)));
  float* o = scratch;             // [rows][hd]
  float* mx = o + rows * hd;      // [rows] running maximum
  float* sum = mx + rows;         // [rows] running sum
  float* corr = sum + rows;       // [rows] how much each row's output shrinks in this tile
  float* scores = corr + rows;    // [rows][T] of the current tile
  Tiles tiles(s, q, t0, rows, g, scores + rows * T);
  for (int64_t i = 0; i < rows * hd; ++i) o[i] = 0.0f;
  for (int64_t r = 0; r < rows; ++r) {
    mx[r] = -INFINITY;
    sum[r] = 0.0f;
  }
  const int64_t n_keys = pos0 + t1;  // the last token sees the most keys
  const int64_t first = s.first_key(pos0 + t0) / T * T;  // the first token the earliest
  for (int64_t j0 = first; j0 < n_keys; j0 += T) {
    const int64_t nj = n_keys - j0 < T ? n_keys - j0 : T;
    // Keys of this tile row r sees (causal: keys < pos0 + its token + 1).
    auto valid = [&](int64_t r) {
      const int64_t limit = pos0 + t0 + r / group + 1 - j0;
      return limit <= 0 ? int64_t{0} : limit < nj ? limit : nj;
    };
    // Keys of this tile before row r's window (s.window): they take p = 0.
    auto before = [&](int64_t r) {
      const int64_t lo = s.first_key(pos0 + t0 + r / group) - j0;
      return lo <= 0 ? int64_t{0} : lo;
    };
    tiles.load(kv, j0, nj);

    // Scores, eight rows at a time with 32 vector registers (16 accumulators: pp4096 of an 8-layer
    // Q8_0 model 0.4-3.5 % faster than four, the same logits), four, then the rows left one by one.
    int64_t r = 0;
    if constexpr (V::kRegisters >= 32)
      for (; r + 8 <= rows; r += 8) tiles.template scores<8>(r, scores + r * T);
    for (; r + 4 <= rows; r += 4) tiles.template scores<4>(r, scores + r * T);
    for (; r < rows; ++r) tiles.template scores<1>(r, scores + r * T);

    // Softmax of each row's scores; p (in place of the scores) and the factor its output shrinks by.
    for (r = 0; r < rows; ++r) {
      const int64_t n = valid(r);
      if (n == 0) continue;
      const int64_t n0 = n < L ? n : L, n1 = n - n0;
      float* sr = scores + r * T;
      const int64_t lo = s.window > 0 ? before(r) : 0;
      if (lo >= n) {  // none of its keys here: p x V adds zeros to an unscaled row
        corr[r] = 1.0f;
        for (int64_t j = 0; j < T; ++j) sr[j] = 0.0f;
        continue;
      }
      for (int64_t j = 0; j < lo; ++j) sr[j] = -INFINITY;  // out of the tile's maximum
      const F sc0 = V::mask_tail(V::mul(V::loadu(sr), V::set1(scale)), n0, -INFINITY);
      const F sc1 = V::mask_tail(V::mul(V::loadu(sr + L), V::set1(scale)), n1, -INFINITY);
      const float tile_max = V::reduce_max(V::max(sc0, sc1));
      const float m_new = tile_max > mx[r] ? tile_max : mx[r];
      // Online softmax: what was summed under the old maximum shrinks by exp(old - new).
      // expf(0) is exactly 1: the call is skipped in the usual case of an unchanged maximum.
      corr[r] = m_new == mx[r] ? 1.0f : expf(mx[r] - m_new);  // the C function: see kernels_x86.h
      F p0 = V::mask_tail(V::exp(V::sub(sc0, V::set1(m_new))), n0, 0.0f);
      F p1 = V::mask_tail(V::exp(V::sub(sc1, V::set1(m_new))), n1, 0.0f);
      if (lo > 0) {  // V::exp floors its argument: keys before the window get an exact 0
        V::storeu(sr, p0);
        V::storeu(sr + L, p1);
        for (int64_t j = 0; j < lo; ++j) sr[j] = 0.0f;
        p0 = V::loadu(sr);
        p1 = V::loadu(sr + L);
      }
      sum[r] = sum[r] * corr[r] + V::reduce_add(V::add(p0, p1));
      mx[r] = m_new;
      V::storeu(sr, p0);
      V::storeu(sr + L, p1);
    }
    // p x V: several rows at once where they see the same keys (the query heads of one token),
    // so each V row loaded serves all of them; each row's arithmetic is the same either way.
    constexpr int kRows = Tiles::kPvRows;
    for (r = 0; r < rows;) {
      const int64_t n = valid(r);
      if (r + kRows <= rows && n > 0 && valid(r + kRows - 1) == n) {  // valid() never falls as r grows
        tiles.template accumulate<kRows>(r, scores + r * T, corr + r, o + r * hd, n);
        r += kRows;
      } else {
        if (n > 0) tiles.template accumulate<1>(r, scores + r * T, corr + r, o + r * hd, n);
        r += 1;
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t h = g * group + r % group;
    float* dst = out + ((t0 + r / group) * s.n_head + h) * hd;
    const float denominator = s.sinks != nullptr ? sum[r] + expf(s.sinks[h] - mx[r]) : sum[r];
    const float inv = 1.0f / denominator;
    for (int64_t e = 0; e < hd; ++e) dst[e] = o[r * hd + e] * inv;
  }
}

}  // namespace fa

}  // namespace
}  // namespace fare
