// The 6-bit scales and minimums of a Q4_K / Q5_K super-block (layout: dequant.cpp), for the x86
// kernel files. Internal linkage: each file gets its own copy compiled with its flags (see
// kernels_x86.h); everything here needs no more than AVX2 and F16C.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace fare {
namespace {

// Scale and minimum of sub-block j, from the 12 scale bytes s.
inline void scale_min_k4(int j, const uint8_t* s, int& sc, int& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// All eight at once, times d and dmin, from the super-block's first 16 bytes (d, dmin, s[0..11]):
// sc[0..3] = s[0..3] & 63, m[0..3] = s[4..7] & 63, sc[4..7] = low nibble of s[8..11] + top two
// bits of s[0..3] as bits 4-5, m[4..7] = high nibble of s[8..11] + top two bits of s[4..7]. Two
// byte shuffles put all 16 fields in one register. The products are the reference's floats.
inline void scales_k4(const uint8_t* blk, __m256& dsc, __m256& dmn) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
  // Lanes 0-7 become sc[0..7], lanes 8-15 m[0..7].
  const __m128i a = _mm_shuffle_epi8(v, _mm_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m128i top = _mm_shuffle_epi8(v, _mm_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11));
  const __m128i a2 = _mm_blend_epi16(a, _mm_srli_epi16(a, 4), 0xc0);  // m[4..7] take the high nibbles
  const __m128i low = _mm_and_si128(a2, _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15));
  const __m128i six = _mm_or_si128(low, _mm_and_si128(_mm_srli_epi16(top, 2), _mm_set1_epi8(0x30)));
  const __m256 d = _mm256_broadcastss_ps(_mm_cvtph_ps(v));
  const __m256 dmin = _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_srli_epi32(v, 16)));
  dsc = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(six)));
  dmn = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(six, 8))));
}

}  // namespace
}  // namespace fare
