// Helpers shared by the AVX-512 kernel files. Internal linkage on purpose: each file gets its own
// copy compiled with its own flags (see kernels_x86.h).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ops/kernels.h"
#include "ops/matmul.h"

namespace fare {
namespace {

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

// Bits [0, n) set, n in [0, 16].
inline __mmask16 head_mask16(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << n) - 1u);
}

// fp16 at an arbitrary address, exactly (F16C).
inline float load_f16_scalar(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Transposes 16 vectors of 16 32-bit values in place: lane j of r[i] becomes lane i of r[j].
inline void transpose16x16_32(__m512 r[16]) {
  __m512 t[16];
  // Interleave pairs of rows, then quadruples: within each 128-bit lane, 4x4 transposes.
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  // r[4q + e], lane L: rows 4q..4q+3 of column 4L + e. Gather the lanes of each column.
  for (int e = 0; e < 4; ++e) {
    const __m512 a = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88);       // lanes 0,2 of rows 0-3, 4-7
    const __m512 b = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);       // lanes 1,3
    const __m512 c = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);  // rows 8-11, 12-15
    const __m512 dd = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    t[e] = _mm512_shuffle_f32x4(a, c, 0x88);       // column e
    t[8 + e] = _mm512_shuffle_f32x4(a, c, 0xdd);   // column 8 + e
    t[4 + e] = _mm512_shuffle_f32x4(b, dd, 0x88);  // column 4 + e
    t[12 + e] = _mm512_shuffle_f32x4(b, dd, 0xdd); // column 12 + e
  }
  for (int j = 0; j < 16; ++j) r[j] = t[j];
}

// Transposes a 16x16 block of 32-bit values: row i of the source (src + i * src_stride, 16
// values) becomes column i of the destination (dst + j * dst_stride holds the old column j).
// Works for floats and for groups of 4 int8 or 2 bf16 values alike.
inline void transpose16x16_32(const void* src, int64_t src_stride, void* dst, int64_t dst_stride) {
  const auto* s = static_cast<const float*>(src);
  auto* d = static_cast<float*>(dst);
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(s + i * src_stride);
  transpose16x16_32(r);
  for (int j = 0; j < 16; ++j) _mm512_storeu_ps(d + j * dst_stride, r[j]);
}

// fn(std::integral_constant<int, n>) for the n tokens of a decode product, 1 to 4 (matmul sends
// at most kGemvMaxTokens): decode kernels are instantiated per token count.
template <class Fn>
inline void with_token_count(int64_t n, Fn&& fn) {
  static_assert(kGemvMaxTokens == 4);
  switch (n) {
    case 1: return fn(std::integral_constant<int, 1>{});
    case 2: return fn(std::integral_constant<int, 2>{});
    case 3: return fn(std::integral_constant<int, 3>{});
    default: return fn(std::integral_constant<int, 4>{});
  }
}

// Asks for `bytes` bytes of rows [r, r + n) of w, from byte `offset` of each row on, to be brought
// to L2. A prefill tile is decoded once and then multiplied with every token for a long while:
// requesting the next tile's weights before that work hides the memory latency that otherwise
// stalls each tile's decode.
inline void prefetch_rows_l2(const WeightMatrix& w, int64_t r, int64_t n, int64_t offset, int64_t bytes) {
  for (int64_t i = 0; i < n; ++i) {
    const char* p = reinterpret_cast<const char*>(w.row(r + i)) + offset;
    for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T1);
  }
}

// The walk of a prefill product over weight tiles of `mr` rows x up to `kc_max` columns: rows
// [r0, r1) in panels of `panel` rows, each panel through all `cols` columns before the next, so
// that the panel's float results stay in L2 between column chunks. For each tile (rb, nr rows,
// k0, kc columns): pack(rb, nr, k0, kc) decodes it, prefetch(r, n, k0, kc) is then asked for the
// next tile's weights (the next of this panel, else the first of its next column chunk, else the
// first of the next panel), and multiply(rb, nr, k0, kc) runs it against every token.
template <class Pack, class Prefetch, class Multiply>
inline void for_each_tile(int64_t r0, int64_t r1, int64_t cols, int64_t panel, int64_t kc_max, int64_t mr,
                          Pack&& pack, Prefetch&& prefetch, Multiply&& multiply) {
  for (int64_t p0 = r0; p0 < r1; p0 += panel) {
    const int64_t p1 = min_i64(r1, p0 + panel);
    for (int64_t k0 = 0; k0 < cols; k0 += kc_max) {
      const int64_t kc = min_i64(kc_max, cols - k0);
      for (int64_t rb = p0; rb < p1; rb += mr) {
        const int64_t nr = min_i64(mr, p1 - rb);
        pack(rb, nr, k0, kc);
        if (rb + mr < p1) prefetch(rb + mr, min_i64(mr, p1 - rb - mr), k0, kc);
        else if (k0 + kc_max < cols)
          prefetch(p0, min_i64(mr, p1 - p0), k0 + kc_max, min_i64(kc_max, cols - k0 - kc_max));
        else if (p1 < r1)
          prefetch(p1, min_i64(mr, r1 - p1), 0, min_i64(kc_max, cols));
        multiply(rb, nr, k0, kc);
      }
    }
  }
}

}  // namespace
}  // namespace fare
