// MXFP4 blocks (layout: ops/mxfp4.h) for the x86 kernel files: the power-of-two scale, and the
// 32 nibbles as byte codes through one table shuffle. Internal linkage: each file gets its own
// copy compiled with its flags (see kernels_x86.h); everything here needs no more than SSSE3.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/mxfp4.h"

namespace fare {
namespace {

// The doubled e2m1 values as floats, for the kernels that look weights up in a register.
constexpr float kMxfp4Floats[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128), bit for bit mxfp4_scale (ops/mxfp4.cpp), inlined in the loops.
inline float mxfp4_scale_of(uint8_t e) {
  const uint32_t bits = e < 2 ? uint32_t{0x00200000} << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// kMxfp4Values + offset as a 16-byte table (offset 16: every code unsigned, for u8 x s8 products).
inline __m128i mxfp4_table(int offset) {
  return _mm_add_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kMxfp4Values)),
                      _mm_set1_epi8(static_cast<char>(offset)));
}

// The codes of one block's 16 bytes qs in value order: lo holds values 0-15 (the low nibbles),
// hi values 16-31 (the high nibbles).
inline void mxfp4_codes(const uint8_t* qs, __m128i table, __m128i& lo, __m128i& hi) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(15);
  lo = _mm_shuffle_epi8(table, _mm_and_si128(v, m));
  hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(v, 4), m));
}

}  // namespace
}  // namespace fare
