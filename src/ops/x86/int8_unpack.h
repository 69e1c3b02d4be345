// Integer weights unpacked to unsigned byte codes for the int8 tile kernels (VNNI and AMX):
// value = scale[group] * (code - offset) + min[block], with the offset of kernels.cpp's table
// (Q8_0: q + 128 / 128, Q4_0: 8, Q6_K: 32, MXFP4: kvalue + 16 / 16, Q4_K / Q5_K: 0 and a
// per-block minimum). Internal linkage: see kernels_x86.h.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/kernels.h"
#include "ops/x86/avx512_common.h"
#include "ops/x86/k_quant_scales.h"
#include "ops/x86/mxfp4_codes.h"

namespace fare {
namespace {

namespace i8 {

template <DType T>
constexpr int kGroup = T == DType::Q6_K ? 16 : 32;
template <DType T>
constexpr bool kHasMin = T == DType::Q4_K || T == DType::Q5_K;
// The offset unpack_row's codes carry (value = scale * (code - offset) + min).
template <DType T>
constexpr int kOffset = T == DType::Q8_0    ? 128
                        : T == DType::Q4_0  ? 8
                        : T == DType::Q6_K  ? 32
                        : T == DType::MXFP4 ? 16
                                            : 0;
// Bytes of 256 columns of a row.
template <DType T>
constexpr int64_t kBytesPer256 = T == DType::Q8_0 ? 8 * 34
                                 : T == DType::Q4_0 ? 8 * 18
                                 : T == DType::MXFP4 ? 8 * 17
                                 : T == DType::Q4_K ? 144
                                 : T == DType::Q5_K ? 176
                                                    : 210;  // Q6_K

// Rows [r, r + n) x columns [k0, k0 + kc) to L2 (k0: a multiple of 256): see prefetch_rows_l2.
template <DType T>
inline void prefetch_rows(const WeightMatrix& w, int64_t r, int64_t n, int64_t k0, int64_t kc) {
  prefetch_rows_l2(w, r, n, (k0 / 256) * kBytesPer256<T>, (kc + 255) / 256 * kBytesPer256<T>);
}

// Low and high nibbles of 16 bytes, as 16 + 16 bytes.
inline void split_nibbles(const uint8_t* src, uint8_t* lo, uint8_t* hi) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
  const __m128i m = _mm_set1_epi8(15);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lo), _mm_and_si128(v, m));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(hi), _mm_and_si128(_mm_srli_epi16(v, 4), m));
}

// Row r, columns [k0, k0 + kc): codes to `u`, group scales to scale[g * kStride], block minimums
// to mins[b * kStride].
template <DType T, int kStride>
void unpack_row(const WeightMatrix& w, int64_t r, int64_t k0, int64_t kc, uint8_t* u, float* scale, float* mins) {
  const uint8_t* row = w.row(r);
  if constexpr (T == DType::Q8_0) {
    const uint8_t* x = row + (k0 / 32) * 34;
    const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
    for (int64_t b = 0; b < kc / 32; ++b, x += 34) {
      scale[b * kStride] = load_f16_scalar(x);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 2));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), _mm256_xor_si256(q, flip));  // q + 128
    }
  } else if constexpr (T == DType::Q4_0) {
    const uint8_t* x = row + (k0 / 32) * 18;
    for (int64_t b = 0; b < kc / 32; ++b, x += 18) {
      scale[b * kStride] = load_f16_scalar(x);
      split_nibbles(x + 2, u + 32 * b, u + 32 * b + 16);
    }
  } else if constexpr (T == DType::MXFP4) {
    // Signed values -12..12 as unsigned codes 4..28: vpdpbusd and TDPBUSD read weights unsigned.
    const uint8_t* x = row + (k0 / 32) * 17;
    const __m128i table = mxfp4_table(kOffset<T>);
    for (int64_t b = 0; b < kc / 32; ++b, x += 17) {
      scale[b * kStride] = mxfp4_scale_of(x[0]);
      __m128i lo, hi;
      mxfp4_codes(x + 1, table, lo, hi);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 32 * b), lo);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 32 * b + 16), hi);
    }
  } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    constexpr bool k5 = T == DType::Q5_K;
    constexpr int kBytes = k5 ? 176 : 144;
    const uint8_t* x = row + (k0 / 256) * kBytes;
    for (int64_t sb = 0; sb < kc / 256; ++sb, x += kBytes, u += 256, scale += 8 * kStride, mins += 8 * kStride) {
      __m256 dsc, dmn;
      scales_k4(x, dsc, dmn);
      alignas(32) float sc8[8], mn8[8];
      _mm256_store_ps(sc8, dsc);
      _mm256_store_ps(mn8, dmn);
      for (int j = 0; j < 8; ++j) {
        scale[j * kStride] = sc8[j];
        mins[j * kStride] = -mn8[j];
      }
      const uint8_t* q = x + (k5 ? 48 : 16);
      const __m256i m = _mm256_set1_epi8(15);
      for (int c = 0; c < 4; ++c) {
        // Sub-blocks 2c and 2c+1 are the low and high nibbles of q[32c .. 32c+31].
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * c));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * c), _mm256_and_si256(v, m));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), m));
      }
      if constexpr (k5) {
        // Bit k of qh[l] adds 16 to value l of sub-block k.
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16));
        const __m256i sixteen = _mm256_set1_epi8(16);
        for (int k = 0; k < 8; ++k) {
          const __m256i bitk = _mm256_set1_epi8(static_cast<char>(1 << k));
          const __m256i add = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(qh, bitk), bitk), sixteen);
          __m256i* dst = reinterpret_cast<__m256i*>(u + 32 * k);
          _mm256_storeu_si256(dst, _mm256_add_epi8(_mm256_loadu_si256(dst), add));
        }
      }
    }
  } else if constexpr (T == DType::Q6_K) {
    const uint8_t* x = row + (k0 / 256) * 210;
    const __m256i low = _mm256_set1_epi8(15), three = _mm256_set1_epi8(3);
    for (int64_t sb = 0; sb < kc / 256; ++sb, x += 210, u += 256, scale += 16 * kStride) {
      const float d = load_f16_scalar(x + 208);
      const auto* sc = reinterpret_cast<const int8_t*>(x + 192);
      for (int j = 0; j < 16; ++j) scale[j * kStride] = d * static_cast<float>(sc[j]);
      for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = x + 64 * half;
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 128 + 32 * half));
        // Byte shifts through 16-bit lanes; the masks drop what crossed from the neighbour.
        auto hbits = [&](int s) { return _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, s), three), 4); };
        const __m256i q0 = _mm256_or_si256(_mm256_and_si256(a, low), hbits(0));
        const __m256i q1 = _mm256_or_si256(_mm256_and_si256(b, low), hbits(2));
        const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low), hbits(4));
        const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), low), hbits(6));
        uint8_t* o = u + 128 * half;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), q0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32), q1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 64), q2);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 96), q3);
      }
    }
  }
}

// Row r of a tile whose codes are read `width` columns wide (width >= kc): the codes zero-padded
// past kc. A row past the matrix (have == false) becomes zero codes with zero scales and
// minimums, so it adds nothing to the product.
template <DType T, int kStride>
void unpack_tile_row(const WeightMatrix& w, int64_t r, bool have, int64_t k0, int64_t kc, int64_t width, uint8_t* u,
                     float* scale, float* mins) {
  if (have) {
    unpack_row<T, kStride>(w, r, k0, kc, u, scale, mins);
    std::memset(u + kc, 0, static_cast<size_t>(width - kc));
    return;
  }
  std::memset(u, 0, static_cast<size_t>(width));
  for (int64_t g = 0; g < kc / kGroup<T>; ++g) scale[g * kStride] = 0.0f;
  if constexpr (kHasMin<T>)
    for (int64_t b = 0; b < kc / 32; ++b) mins[b * kStride] = 0.0f;
}

}  // namespace i8

}  // namespace
}  // namespace fare
