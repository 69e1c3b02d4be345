// The 16-lane float vector of the AVX-512 kernels (the V of float_kernels.h,
// attention_kernels.h and swiglu_kernels.h). Internal linkage: see kernels_x86.h.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "ops/x86/avx512_common.h"

namespace fare {
namespace {

struct V512 {
  using F = __m512;
  using I = __m512i;
  static constexpr int kLanes = 16;
  static constexpr int kTokens = 12;
  static constexpr int kRegisters = 32;  // vector registers
  static constexpr bool kLut16 = true;  // lut16() and lut32(): tables in one or two registers

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static I set1i(int v) { return _mm512_set1_epi32(v); }
  static F load(const float* p) { return _mm512_load_ps(p); }
  static F loadu(const float* p) { return _mm512_loadu_ps(p); }
  static F load_partial(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(head_mask16(n), p); }
  static void storeu(float* p, F v) { _mm512_storeu_ps(p, v); }
  static void store_partial(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, head_mask16(n), v); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fmsub(F a, F b, F c) { return _mm512_fmsub_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
  // Lanes n.. replaced by `fill`.
  static F mask_tail(F v, int64_t n, float fill) { return _mm512_mask_blend_ps(head_mask16(n), set1(fill), v); }
  // e^x within 2 ulp for x in [-87, 88]; below that it returns about 1e-38 (callers mask such lanes).
  static F exp(F x) {
    x = _mm512_max_ps(x, set1(-87.33f));
    const F n =
        _mm512_roundscale_ps(_mm512_mul_ps(x, set1(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    F r = _mm512_fnmadd_ps(n, set1(0.693145752f), x);  // ln 2 in two parts (Cody-Waite)
    r = _mm512_fnmadd_ps(n, set1(1.42860677e-6f), r);
    F p = set1(1.0f / 5040);
    for (const float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
      p = _mm512_fmadd_ps(p, r, set1(c));
    return _mm512_scalef_ps(p, n);
  }
  static F cvt(I v) { return _mm512_cvtepi32_ps(v); }
  static F iota() { return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  // table[idx & 15] per lane.
  static F lut16(I idx, F table) { return _mm512_permutexvar_ps(idx, table); }
  // (idx & 31) < 16 ? lo[idx & 15] : hi[idx & 15] per lane.
  static F lut32(I idx, F lo, F hi) { return _mm512_permutex2var_ps(lo, idx, hi); }

  static I load_i8(const uint8_t* p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static I load_u8(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  template <DType T>
  static F load_half(const uint8_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    if constexpr (T == DType::F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static I and_(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_(I a, I b) { return _mm512_or_si512(a, b); }
  static I add(I a, I b) { return _mm512_add_epi32(a, b); }
  static I sub(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I srli(I a, int n) { return _mm512_srli_epi32(a, static_cast<unsigned>(n)); }
  static I slli(I a, int n) { return _mm512_slli_epi32(a, static_cast<unsigned>(n)); }
  // e4m3fn bytes (one per lane) to float, exactly: normals rebias the exponent (7 -> 127),
  // subnormals are man * 2^-9, 0x7f / 0xff are NaN.
  static F e4m3(I b) {
    const I sign = _mm512_slli_epi32(_mm512_and_si512(b, set1i(0x80)), 24);
    const I em = _mm512_and_si512(b, set1i(0x7f));
    const I normal = _mm512_add_epi32(_mm512_slli_epi32(em, 20), set1i(120 << 23));
    const F sub = _mm512_mul_ps(_mm512_cvtepi32_ps(em), set1(1.0f / 512.0f));
    I v = _mm512_mask_mov_epi32(normal, _mm512_cmplt_epi32_mask(em, set1i(8)), _mm512_castps_si512(sub));
    v = _mm512_mask_mov_epi32(v, _mm512_cmpeq_epi32_mask(em, set1i(0x7f)), set1i(0x7fc00000));
    return _mm512_castsi512_ps(_mm512_or_si512(v, sign));
  }
  static void transpose(const float* src, int64_t ss, float* dst, int64_t ds) { transpose16x16_32(src, ss, dst, ds); }
};

}  // namespace
}  // namespace fare
