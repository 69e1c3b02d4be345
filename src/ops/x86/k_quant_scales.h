// The 6-bit scales and minimums of a Q4_K / Q5_K super-block (layout: dequant.cpp), for the x86
// kernel files. Internal linkage: each file gets its own copy compiled with its flags (see
// kernels_x86.h); everything here needs no more than AVX2 and F16C.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

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

// A Q6_K super-block x (layout: dequant.cpp): dsc[16] = d * scale of each 16 values (the
// reference's product, before the codes), qv[256] = the codes as signed bytes q - 32, assembled
// 32 at a time with byte operations (shifts go through 16-bit lanes; the masks drop what crossed
// from the neighbouring byte). dsc 32-byte aligned.
inline void decode_q6_k(const uint8_t* x, float* dsc, int8_t* qv) {
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(static_cast<unsigned short>(x[208] | (x[209] << 8))));
  for (int j = 0; j < 16; j += 8) {
    const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + 192 + j)));
    _mm256_store_ps(dsc + j, _mm256_mul_ps(d, _mm256_cvtepi32_ps(v)));
  }
  const __m256i low = _mm256_set1_epi8(15), three = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
  for (int half = 0; half < 2; ++half) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 64 * half));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 64 * half + 32));
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 128 + 32 * half));
    const __m256i parts[4] = {
        _mm256_or_si256(_mm256_and_si256(a, low), _mm256_slli_epi16(_mm256_and_si256(h, three), 4)),
        _mm256_or_si256(_mm256_and_si256(b, low), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), three), 4)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), three), 4)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), low),
                        _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), three), 4))};
    for (int g = 0; g < 4; ++g)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(qv + 128 * half + 32 * g), _mm256_sub_epi8(parts[g], off));
  }
}

#ifdef __AVX512F__
// scales_k4 of two super-blocks at once (b0: lanes 0-7, b1: lanes 8-15), for the AVX-512 decode:
// the same byte shuffles on both 16-byte heads in one register, the same products.
inline void scales_k4_x2(const uint8_t* b0, const uint8_t* b1, __m512& dsc, __m512& dmn) {
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b0))),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1)), 1);
  const __m256i a = _mm256_shuffle_epi8(v, _mm256_setr_epi8(4, 5, 6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15, 4, 5,
                                                            6, 7, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m256i top = _mm256_shuffle_epi8(v, _mm256_setr_epi8(-1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11, -1,
                                                              -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, 8, 9, 10, 11));
  const __m256i a2 = _mm256_blend_epi16(a, _mm256_srli_epi16(a, 4), 0xc0);
  const __m256i low = _mm256_and_si256(a2, _mm256_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15,
                                                            63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15));
  const __m256i six = _mm256_or_si256(low, _mm256_and_si256(_mm256_srli_epi16(top, 2), _mm256_set1_epi8(0x30)));
  const __m256i sm = _mm256_permute4x64_epi64(six, 0xd8);  // sc of b0, sc of b1, m of b0, m of b1
  uint32_t h0, h1;  // d and dmin of each
  std::memcpy(&h0, b0, 4);
  std::memcpy(&h1, b1, 4);
  const __m512 f = _mm512_castps128_ps512(_mm_cvtph_ps(_mm_setr_epi32(static_cast<int>(h0), static_cast<int>(h1), 0, 0)));
  const __m512i lo8 = _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0);  // f: d0, dmin0, d1, dmin1
  dsc = _mm512_mul_ps(_mm512_permutexvar_ps(lo8, f), _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(sm))));
  dmn = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_add_epi32(lo8, _mm512_set1_epi32(1)), f),
                      _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm256_extracti128_si256(sm, 1))));
}
#endif

}  // namespace
}  // namespace fare
