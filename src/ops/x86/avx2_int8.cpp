// AVX2 decode of Q8_0, Q4_K, Q6_K and MXFP4 weights on int8 activation blocks (ActFormat::Q8, no code
// offset), for CPUs without AVX-512. There the float kernels decode every weight to float and multiply with FMAs,
// which with two threads holds decode to about half the read bandwidth on a Zen 1 EPYC; here each
// block of 32 columns is summed exactly in integers. vpmaddubsw multiplies unsigned by signed
// bytes, so it takes |w| (vpabsb: a code of -128 becomes the unsigned 128) times x carrying w's
// sign (vpsignb); each of its pair sums is at most 2 x 128 x 127 = 32512, inside int16
// (activation codes lie in [-127, 127]). vpmaddwd adds pairs of those into 8 int32 lanes, and one
// FMA scales them by the weight scale times the activation scale. Q4_K's codes (0-15) need no
// sign: its minimums enter once per super-block against the activation block sums (Acts::qsum).
// Q6_K's codes become q - 32 as in the float kernels, then take Q8_0's path with one scale per 16
// columns (lanes 0-3 and 4-7). MXFP4's nibbles become their signed values (-12..12) through one
// byte shuffle of the table and take Q8_0's path, with a power-of-two scale. A token's arithmetic
// does not depend on the tokens it runs with.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/x86/k_quant_scales.h"
#include "ops/x86/kernels_x86.h"
#include "ops/x86/mxfp4_codes.h"

namespace fare::avx2_int8 {

namespace {

constexpr int64_t kBlock = 32, kBlockBytes = 34;
// One row at a time, prefetched far ahead: the streaming pattern of the other decode kernels.
constexpr int64_t kAheadBytes = 8192;
constexpr int64_t kPrefetchBlocks = 8;  // blocks per prefetch step (272 bytes)

inline float f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// sum over 8 int32 lanes of 4 columns each: |w| . (x with w's sign), in 32 columns.
inline __m256i dot_signed(__m256i aw, __m256i wq, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, wq)), _mm256_set1_epi16(1));
}

inline void prefetch_ahead(const uint8_t* p, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p) + kAheadBytes + o, _MM_HINT_T0);
}

// Row r for NT tokens: y[t * rows + r] = sum over blocks of d_w * d_x * (w codes . x codes).
template <int NT>
void row_q8_0(const WeightMatrix& w, const Acts& a, int64_t r, float* y) {
  const int64_t nb = w.cols / kBlock;
  const uint8_t* row = w.row(r);
  const int8_t* xq[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = a.q + t * w.cols;
    xs[t] = a.scale + t * nb;
  }
  __m256 acc[NT];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * kBlockBytes;
    if (b % kPrefetchBlocks == 0) prefetch_ahead(blk, kPrefetchBlocks * kBlockBytes);
    const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    const __m256i aw = _mm256_abs_epi8(wq);
    const float dw = f16(blk);
    for (int t = 0; t < NT; ++t) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b * kBlock));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_signed(aw, wq, x)), _mm256_set1_ps(dw * xs[t][b]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = hsum(acc[t]);
}

template <int NT>
void row_mxfp4(const WeightMatrix& w, const Acts& a, int64_t r, float* y) {
  constexpr int64_t kBytes = 17;
  const int64_t nb = w.cols / kBlock;
  const uint8_t* row = w.row(r);
  const int8_t* xq[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = a.q + t * w.cols;
    xs[t] = a.scale + t * nb;
  }
  const __m128i table = mxfp4_table(0);
  __m256 acc[NT];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * kBytes;
    if (b % (2 * kPrefetchBlocks) == 0) prefetch_ahead(blk, 2 * kPrefetchBlocks * kBytes);
    __m128i lo, hi;
    mxfp4_codes(blk + 1, table, lo, hi);
    const __m256i wq = _mm256_set_m128i(hi, lo);
    const __m256i aw = _mm256_abs_epi8(wq);
    const float dw = mxfp4_scale_of(blk[0]);
    for (int t = 0; t < NT; ++t) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b * kBlock));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_signed(aw, wq, x)), _mm256_set1_ps(dw * xs[t][b]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = hsum(acc[t]);
}

template <int NT>
void row_q4_k(const WeightMatrix& w, const Acts& a, int64_t r, float* y) {
  const int64_t nsb = w.cols / 256, nb = w.cols / kBlock;
  const uint8_t* row = w.row(r);
  const int8_t* xq[NT];
  const float *xs[NT], *xsum[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = a.q + t * w.cols;
    xs[t] = a.scale + t * nb;
    xsum[t] = a.qsum + t * nb;
  }
  const __m256i low = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
  __m256 acc[NT], accm[NT];
  for (int t = 0; t < NT; ++t) acc[t] = accm[t] = _mm256_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* blk = row + sb * 144;
    prefetch_ahead(blk, 144);
    __m256 dsc, dmn;
    scales_k4(blk, dsc, dmn);
    alignas(32) float sc[8];
    _mm256_store_ps(sc, dsc);
    for (int t = 0; t < NT; ++t) accm[t] = _mm256_fmadd_ps(dmn, _mm256_loadu_ps(xsum[t] + sb * 8), accm[t]);
    // 32 bytes of codes: low nibbles are sub-block 2c, high nibbles 2c + 1.
    for (int c = 0; c < 4; ++c) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * c));
      const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
      for (int t = 0; t < NT; ++t) {
        const int8_t* x = xq[t] + sb * 256 + 64 * c;
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))), ones);
        const __m256i p1 =
            _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32))), ones);
        const float* s = xs[t] + sb * 8 + 2 * c;
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(sc[2 * c] * s[0]), acc[t]);
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(sc[2 * c + 1] * s[1]), acc[t]);
      }
    }
  }
  // Minimums enter with a minus sign: value = d * sc * q - dmin * m.
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = hsum(acc[t]) - hsum(accm[t]);
}

template <int NT>
void row_q6_k(const WeightMatrix& w, const Acts& a, int64_t r, float* y) {
  const int64_t nsb = w.cols / 256, nb = w.cols / kBlock;
  const uint8_t* row = w.row(r);
  const int8_t* xq[NT];
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) {
    xq[t] = a.q + t * w.cols;
    xs[t] = a.scale + t * nb;
  }
  __m256 acc[NT];
  for (auto& v : acc) v = _mm256_setzero_ps();
  alignas(32) int8_t qv[256];
  alignas(32) float dsc[16];  // d * scale of each 16 values
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* blk = row + sb * 210;
    prefetch_ahead(blk, 210);
    decode_q6_k(blk, dsc, qv);
    for (int e = 0; e < 8; ++e) {
      const __m256i wq = _mm256_load_si256(reinterpret_cast<const __m256i*>(qv + 32 * e));
      const __m256i aw = _mm256_abs_epi8(wq);
      // Lanes 0-3 hold columns 0-15 of the 32, lanes 4-7 columns 16-31.
      const __m256 wsc = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(dsc[2 * e])), _mm_set1_ps(dsc[2 * e + 1]), 1);
      for (int t = 0; t < NT; ++t) {
        const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + sb * 256 + 32 * e));
        const __m256 scale = _mm256_mul_ps(wsc, _mm256_set1_ps(xs[t][sb * 8 + e]));
        acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot_signed(aw, wq, x)), scale, acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = hsum(acc[t]);
}

template <DType T, int NT>
void gemv_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    if constexpr (T == DType::Q8_0) row_q8_0<NT>(w, a, r, y);
    else if constexpr (T == DType::Q4_K) row_q4_k<NT>(w, a, r, y);
    else if constexpr (T == DType::MXFP4) row_mxfp4<NT>(w, a, r, y);
    else row_q6_k<NT>(w, a, r, y);
  }
}

template <DType T>
void gemv_any(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  static_assert(kGemvMaxTokens == 4);
  switch (a.n_tokens) {
    case 1: return gemv_n<T, 1>(w, a, r0, r1, y);
    case 2: return gemv_n<T, 2>(w, a, r0, r1, y);
    case 3: return gemv_n<T, 3>(w, a, r0, r1, y);
    default: return gemv_n<T, 4>(w, a, r0, r1, y);
  }
}

}  // namespace

template <>
void gemv<DType::Q8_0>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_any<DType::Q8_0>(w, a, r0, r1, y);
}
template <>
void gemv<DType::Q4_K>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_any<DType::Q4_K>(w, a, r0, r1, y);
}
template <>
void gemv<DType::Q6_K>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_any<DType::Q6_K>(w, a, r0, r1, y);
}
template <>
void gemv<DType::MXFP4>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_any<DType::MXFP4>(w, a, r0, r1, y);
}

}  // namespace fare::avx2_int8
