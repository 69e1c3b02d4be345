// AVX2 decode of Q8_0 weights on int8 activation blocks (ActFormat::Q8, no code offset), for CPUs
// without AVX-512. There the float kernels decode every weight to float and multiply with FMAs,
// which with two threads holds decode to about half the read bandwidth on a Zen 1 EPYC; here each
// block of 32 columns is summed exactly in integers. vpmaddubsw multiplies unsigned by signed
// bytes, so it takes |w| (vpabsb: a code of -128 becomes the unsigned 128) times x carrying w's
// sign (vpsignb); each of its pair sums is at most 2 x 128 x 127 = 32512, inside int16
// (activation codes lie in [-127, 127]). vpmaddwd adds pairs of those into 8 int32 lanes, and one
// FMA scales them by the weight scale times the activation scale. A token's arithmetic does not
// depend on the tokens it runs with.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/x86/kernels_x86.h"

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
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[NT];
  for (auto& v : acc) v = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = row + b * kBlockBytes;
    if (b % kPrefetchBlocks == 0)
      for (int64_t o = 0; o < kPrefetchBlocks * kBlockBytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(blk) + kAheadBytes + o, _MM_HINT_T0);
    const __m256i wq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    const __m256i aw = _mm256_abs_epi8(wq);
    const float dw = f16(blk);
    for (int t = 0; t < NT; ++t) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq[t] + b * kBlock));
      const __m256i pairs = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(x, wq));
      const __m256i sums = _mm256_madd_epi16(pairs, ones);
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(dw * xs[t][b]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = hsum(acc[t]);
}

template <int NT>
void gemv_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  for (int64_t r = r0; r < r1; ++r) row_q8_0<NT>(w, a, r, y);
}

}  // namespace

template <>
void gemv<DType::Q8_0>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  static_assert(kGemvMaxTokens == 4);
  switch (a.n_tokens) {
    case 1: return gemv_n<1>(w, a, r0, r1, y);
    case 2: return gemv_n<2>(w, a, r0, r1, y);
    case 3: return gemv_n<3>(w, a, r0, r1, y);
    default: return gemv_n<4>(w, a, r0, r1, y);
  }
}

}  // namespace fare::avx2_int8
