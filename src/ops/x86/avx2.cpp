// AVX2 + FMA + F16C float-activation kernels: float_kernels.h over 8-lane vectors, with a
// 16-row x 6-token register tile (12 accumulators of the 16 registers).
#include <immintrin.h>

#include "ops/x86/attention_kernels.h"
#include "ops/x86/float_kernels.h"
#include "ops/x86/kernels_x86.h"
#include "ops/x86/swiglu_kernels.h"

namespace fare::avx2 {

namespace {

// Lane i is all ones for i < n: the mask form maskload / maskstore take.
__m256i head_mask8(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

struct V256 {
  using F = __m256;
  using I = __m256i;
  static constexpr int kLanes = 8;
  static constexpr int kTokens = 6;
  static constexpr int kRegisters = 16;  // vector registers
  static constexpr bool kLut16 = false;

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static I set1i(int v) { return _mm256_set1_epi32(v); }
  static F load(const float* p) { return _mm256_load_ps(p); }
  static F loadu(const float* p) { return _mm256_loadu_ps(p); }
  static F load_partial(const float* p, int64_t n) {
    return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, head_mask8(n));
  }
  static void storeu(float* p, F v) { _mm256_storeu_ps(p, v); }
  static void store_partial(float* p, F v, int64_t n) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, head_mask8(n), v);
  }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fmsub(F a, F b, F c) { return _mm256_fmsub_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static float reduce_add(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(F v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
  // Lanes n.. replaced by `fill`.
  static F mask_tail(F v, int64_t n, float fill) {
    return _mm256_blendv_ps(set1(fill), v, _mm256_castsi256_ps(head_mask8(n)));
  }
  // e^x within 2 ulp for x in [-87, 88]; below that it returns about 1e-38 (callers mask such lanes).
  static F exp(F x) {
    x = _mm256_max_ps(x, set1(-87.33f));
    const F n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    F r = _mm256_fnmadd_ps(n, set1(0.693145752f), x);  // ln 2 in two parts (Cody-Waite)
    r = _mm256_fnmadd_ps(n, set1(1.42860677e-6f), r);
    F p = set1(1.0f / 5040);
    for (const float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
      p = _mm256_fmadd_ps(p, r, set1(c));
    const I e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), set1i(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  static F cvt(I v) { return _mm256_cvtepi32_ps(v); }
  static I load_i8(const uint8_t* p) {
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  static I load_u8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
  template <DType T>
  static F load_half(const uint8_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if constexpr (T == DType::F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static I and_(I a, I b) { return _mm256_and_si256(a, b); }
  static I or_(I a, I b) { return _mm256_or_si256(a, b); }
  static I add(I a, I b) { return _mm256_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I srli(I a, int n) { return _mm256_srli_epi32(a, n); }
  static I slli(I a, int n) { return _mm256_slli_epi32(a, n); }
  // e4m3fn to float, exactly (see the AVX-512 version).
  static F e4m3(I b) {
    const I sign = _mm256_slli_epi32(_mm256_and_si256(b, set1i(0x80)), 24);
    const I em = _mm256_and_si256(b, set1i(0x7f));
    const I normal = _mm256_add_epi32(_mm256_slli_epi32(em, 20), set1i(120 << 23));
    const I sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(em), set1(1.0f / 512.0f)));
    const I is_sub = _mm256_cmpgt_epi32(set1i(8), em);
    const I is_nan = _mm256_cmpeq_epi32(em, set1i(0x7f));
    I v = _mm256_blendv_epi8(normal, sub, is_sub);
    v = _mm256_blendv_epi8(v, set1i(0x7fc00000), is_nan);
    return _mm256_castsi256_ps(_mm256_or_si256(v, sign));
  }
  // 8x8 floats: row i of src becomes column i of dst.
  static void transpose(const float* src, int64_t ss, float* dst, int64_t ds) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ss);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    // r[4q + e], lane L: rows 4q..4q+3 of column 4L + e.
    for (int e = 0; e < 4; ++e) {
      _mm256_storeu_ps(dst + e * ds, _mm256_permute2f128_ps(r[e], r[4 + e], 0x20));
      _mm256_storeu_ps(dst + (4 + e) * ds, _mm256_permute2f128_ps(r[e], r[4 + e], 0x31));
    }
  }
};

}  // namespace

FARE_FLOAT_KERNEL_ENTRY_POINTS(V256)

}  // namespace fare::avx2
