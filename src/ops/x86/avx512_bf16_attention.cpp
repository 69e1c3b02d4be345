// Attention of the avx512-bf16 set on a BF16 KV cache: the flash loop of attention_kernels.h
// with its two products on bfloat16 (vdpbf16ps: two multiply-adds per lane and instruction,
// twice the float FMA's). Keys and values are the cache's own bf16 values; query rows and
// probabilities are rounded to bf16 as the set rounds matrix activations; sums, the softmax and
// the output stay in float. On F32 / F16 caches the float products run: rounding keys and values
// there too cost the micro-qwen3 BF16 golden 20 % of its p99 distance (0.118 -> 0.141, where
// llama.cpp's own is 0.119) for 5-8 % of a pp2048 and nothing measurable at pp512.
//
// Scores: the key tile transposed to [pair of head dims][32 keys] pairs, a query row's pair of
// dims broadcast against it. p x V: the value tile as [pair of keys][head dim] pairs, a row's pair
// of probabilities broadcast against it.
#include <immintrin.h>

#include "ops/x86/attention_kernels.h"
#include "ops/x86/avx512_common.h"
#include "ops/x86/avx512_vec.h"
#include "ops/x86/kernels_x86.h"

namespace fare::avx512_bf16 {

namespace {

// The 32 floats at f rounded to bf16, in order: vcvtne2ps2bf16 rounds to nearest even
// (subnormals to zero), one instruction for 32 values.
__m512i round32(const float* f) {
  return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(f + 16), _mm512_loadu_ps(f));
}

class Bf16Tiles {
 public:
  static constexpr int64_t T = 32;  // keys per tile: two vectors
  static constexpr int kPvRows = 4;

  // Scratch: the rounded query rows [rows][hd / 2], the key tile [hd / 2][T], the value tile
  // [T / 2][hd] and the rounded probabilities [rows][T / 2], all as pairs.
  Bf16Tiles(const AttentionShape& s, const float* q, int64_t t0, int64_t rows, int64_t g, float* scratch)
      : hd_(s.head_dim), pairs_(s.head_dim / 2), g_(g) {
    qb_ = reinterpret_cast<uint32_t*>(scratch);
    kt_ = qb_ + rows * pairs_;
    vb_ = kt_ + pairs_ * T;
    pb_ = vb_ + T / 2 * hd_;
    const int64_t group = s.n_head / s.n_head_kv;
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = q + ((t0 + r / group) * s.n_head + g * group + r % group) * hd_;
      for (int64_t e = 0; e < hd_; e += 32) _mm512_storeu_si512(qb_ + r * pairs_ + e / 2, round32(row + e));
    }
  }

  // Keys and values [j0, j0 + nj) of kv head g, zeros past nj (a zero probability times them
  // stays zero).
  void load(const KvRows& kv, int64_t j0, int64_t nj) {
    const auto row = [&](bool values, int64_t j) {
      return reinterpret_cast<const uint16_t*>(values ? kv.v_row(j0 + j, g_) : kv.k_row(j0 + j, g_));
    };
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t e = 0; e < hd_; e += 32) {
        __m512 v[16];
        for (int64_t i = 0; i < 16; ++i)
          v[i] = 16 * h + i < nj ? _mm512_loadu_ps(row(false, 16 * h + i) + e) : _mm512_setzero_ps();
        transpose16x16_32(v);
        for (int64_t k = 0; k < 16; ++k) _mm512_storeu_ps(reinterpret_cast<float*>(kt_ + (e / 2 + k) * T + 16 * h), v[k]);
      }
    // Word 2k of a pair of keys' values: the first key's value k, word 2k + 1: the second's.
    const __m512i first16 = _mm512_set_epi16(47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6,
                                             37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i last16 = _mm512_add_epi16(first16, _mm512_set1_epi16(16));
    for (int64_t jp = 0; jp < T / 2; ++jp)
      for (int64_t e = 0; e < hd_; e += 32) {
        const __m512i a = 2 * jp < nj ? _mm512_loadu_si512(row(true, 2 * jp) + e) : _mm512_setzero_si512();
        const __m512i b = 2 * jp + 1 < nj ? _mm512_loadu_si512(row(true, 2 * jp + 1) + e) : _mm512_setzero_si512();
        _mm512_storeu_si512(vb_ + jp * hd_ + e, _mm512_permutex2var_epi16(a, first16, b));
        _mm512_storeu_si512(vb_ + jp * hd_ + e + 16, _mm512_permutex2var_epi16(a, last16, b));
      }
  }

  // scores[i * T + j] = query row r + i . key j, for NR rows.
  template <int NR>
  void scores(int64_t r, float* scores) const {
    __m512 acc[NR][2];
    for (auto& a : acc) a[0] = a[1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < pairs_; ++p) {
      const __m512bh k0 = (__m512bh)_mm512_loadu_si512(kt_ + p * T);
      const __m512bh k1 = (__m512bh)_mm512_loadu_si512(kt_ + p * T + 16);
      for (int i = 0; i < NR; ++i) {
        const __m512bh qp = (__m512bh)_mm512_set1_epi32(static_cast<int>(qb_[(r + i) * pairs_ + p]));
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], qp, k0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], qp, k1);
      }
    }
    for (int i = 0; i < NR; ++i) {
      _mm512_storeu_ps(scores + i * T, acc[i][0]);
      _mm512_storeu_ps(scores + i * T + 16, acc[i][1]);
    }
  }

  // o[i] = o[i] * corr[i] + sum over j < n of p[i][j] * V row j, for the NR rows from r (p rows T
  // apart, zero past n).
  template <int NR>
  void accumulate(int64_t r, const float* p, const float* corr, float* o, int64_t n) const {
    uint32_t* pb = pb_ + r * (T / 2);
    for (int i = 0; i < NR; ++i) _mm512_storeu_si512(pb + i * (T / 2), round32(p + i * T));
    const int64_t key_pairs = (n + 1) / 2;
    int64_t e = 0;
    for (; e + 64 <= hd_; e += 64) piece<NR, 4>(pb, corr, o, key_pairs, e);
    for (; e < hd_; e += 16) piece<NR, 1>(pb, corr, o, key_pairs, e);
  }

 private:
  // Dims [e, e + 16 C) of accumulate.
  template <int NR, int C>
  void piece(const uint32_t* pb, const float* corr, float* o, int64_t key_pairs, int64_t e) const {
    __m512 acc[NR][C];
    for (int i = 0; i < NR; ++i)
      for (int c = 0; c < C; ++c)
        acc[i][c] = _mm512_mul_ps(_mm512_loadu_ps(o + i * hd_ + e + 16 * c), _mm512_set1_ps(corr[i]));
    for (int64_t jp = 0; jp < key_pairs; ++jp) {
      __m512bh v[C];
      for (int c = 0; c < C; ++c) v[c] = (__m512bh)_mm512_loadu_si512(vb_ + jp * hd_ + e + 16 * c);
      for (int i = 0; i < NR; ++i) {
        const __m512bh pp = (__m512bh)_mm512_set1_epi32(static_cast<int>(pb[i * (T / 2) + jp]));
        for (int c = 0; c < C; ++c) acc[i][c] = _mm512_dpbf16_ps(acc[i][c], pp, v[c]);
      }
    }
    for (int i = 0; i < NR; ++i)
      for (int c = 0; c < C; ++c) _mm512_storeu_ps(o + i * hd_ + e + 16 * c, acc[i][c]);
  }

  int64_t hd_, pairs_, g_;
  uint32_t* qb_;
  uint32_t* kt_;
  uint32_t* vb_;
  uint32_t* pb_;
};

}  // namespace

// Other caches, and head sizes that are not a multiple of 32, take the float products.
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0, const KvRows& kv,
            float* out, float* scratch) {
  if (kv.type != DType::BF16 || s.head_dim % 32 != 0) return fa::attend<V512>(s, q, t0, t1, g, pos0, kv, out, scratch);
  fa::attend<V512, Bf16Tiles>(s, q, t0, t1, g, pos0, kv, out, scratch);
}

}  // namespace fare::avx512_bf16
