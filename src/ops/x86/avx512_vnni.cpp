// AVX-512 VNNI prefill for integer weights: activations arrive quantized to int8 blocks of 32
// (ActFormat::Q8_PANELS: in panels of 6 tokens), weights are unpacked once per tile to unsigned
// byte codes u (value = scale * (u - offset) + min), and vpdpbusd sums 4 byte products per lane.
//
// Every type is brought to one packed form, so one micro-kernel serves them all:
//   codes  [kc/4][32 rows][4 bytes]   unsigned codes, 4 consecutive columns per 32-bit lane
//   scale  [kc/G][32 rows]            float scale of each group of G (= q8_group) columns
//   mins   [kc/32][32 rows]           Q4_K / Q5_K only: the float minimum term of each block
// The integer sum of each group starts from Acts::bias (= -offset * sum of the activation
// codes), which removes the offset exactly; each group then adds
//   float(sum) * scale * activation scale (+ min * activation block sum)
// to float accumulators. The result equals the exactly decoded weights times the int8-rounded
// activations, up to float rounding.
#include <immintrin.h>

#include <cstring>

#include "ops/x86/avx512_common.h"
#include "ops/x86/int8_unpack.h"
#include "ops/x86/kernels_x86.h"

namespace fare::avx512_vnni {

namespace {

constexpr int kMR = kRowTile;  // rows per tile: two 16-lane vectors
constexpr int kNR = 6;         // tokens per register block (24 accumulators)
constexpr int kKC = 1024;      // columns per packed tile
// Rows multiplied through all columns before the next rows start: the float results of a panel
// (128 rows x 256 tokens = 128 KiB) are re-read once per column chunk and stay in L2, where the
// whole range of a thread's rows did not. With the wider column chunk (fewer passes over the
// results), +8-15 % GFLOP/s on Q8_0 and Q4_K (bench_kernels --no-decode, 2 threads).
constexpr int64_t kPanelRows = 128;

struct Packed {
  alignas(64) uint8_t rows[kMR * kKC];  // row-major codes before the transpose
  alignas(64) uint8_t codes[kKC * kMR];
  alignas(64) float scale[(kKC / 16) * kMR];
  alignas(64) float mins[(kKC / 32) * kMR];
};

template <DType T>
void pack_tile(const WeightMatrix& w, int64_t rb, int64_t nr, int64_t k0, int64_t kc, Packed& p) {
  const int64_t kc64 = (kc + 63) / 64 * 64;
  for (int64_t i = 0; i < kMR; ++i)
    i8::unpack_tile_row<T, kMR>(w, rb + i, i < nr, k0, kc, kc64, p.rows + i * kKC, p.scale + i, p.mins + i);
  // Row-major bytes to [column group of 4][row]: a transpose of 32-bit elements.
  for (int64_t kb = 0; kb < kc64; kb += 64)
    for (int h = 0; h < 2; ++h)
      transpose16x16_32(p.rows + 16 * h * kKC + kb, kKC / 4, p.codes + (kb / 4) * kMR * 4 + 16 * h * 4, kMR);
}

inline __m512i bcast_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// y[t * ldy + i] (+)= tile rows i < nr times NT tokens of the token block starting at t0,
// columns [k0, k0 + kc). The activations come from the panels (Acts::q_panels and the scale /
// sum / bias panels): every value of the block's tokens at a fixed offset from one pointer each,
// where per-token pointers (24 for 6 tokens) had been reloaded from the stack at every group.
template <DType T, int NT>
void tile_kernel(const Packed& p, int64_t k0, int64_t kc, const Acts& a, int64_t t0, float* y, int64_t ldy,
                 int64_t nr, bool first) {
  constexpr int G = i8::kGroup<T>;
  constexpr int64_t kT = kQ8PanelTokens;
  static_assert(kNR == kQ8PanelTokens && kKC == 4 * kQ8PanelQuads);
  const int64_t cols = a.cols, nb = cols / 32, ng = cols / G, tb = t0 / kT, n_blocks = (a.n_tokens + kT - 1) / kT;
  const int64_t pc = min_i64(kQ8PanelQuads, (cols - k0) / 4);  // quads of this chunk
  const int8_t* xq = a.q_panels + ((k0 / 4) * n_blocks + tb * pc) * kT * 4;
  const float* xs = a.scale_panels + (tb * nb + k0 / 32) * kT;
  const float* xm = a.qsum_panels + (tb * nb + k0 / 32) * kT;
  const int32_t* xb = a.bias_panels + (tb * ng + k0 / G) * kT;
  __m512 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  const uint8_t* codes = p.codes;
  for (int64_t g = 0; g < kc / G; ++g) {
    __m512i isum[NT][2];
    for (int t = 0; t < NT; ++t) isum[t][0] = isum[t][1] = _mm512_set1_epi32(xb[g * kT + t]);
#pragma GCC unroll 8
    for (int k4 = 0; k4 < G / 4; ++k4, codes += kMR * 4) {
      const __m512i w0 = _mm512_load_si512(codes), w1 = _mm512_load_si512(codes + 64);
      for (int t = 0; t < NT; ++t) {
        const __m512i xv = bcast_i32(xq + ((g * G / 4 + k4) * kT + t) * 4);
        isum[t][0] = _mm512_dpbusd_epi32(isum[t][0], w0, xv);
        isum[t][1] = _mm512_dpbusd_epi32(isum[t][1], w1, xv);
      }
    }
    const __m512 s0 = _mm512_load_ps(p.scale + g * kMR), s1 = _mm512_load_ps(p.scale + g * kMR + 16);
    for (int t = 0; t < NT; ++t) {
      const __m512 sx = _mm512_set1_ps(xs[(g * G / 32) * kT + t]);
      acc[t][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t][0]), _mm512_mul_ps(s0, sx), acc[t][0]);
      acc[t][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t][1]), _mm512_mul_ps(s1, sx), acc[t][1]);
    }
    if constexpr (i8::kHasMin<T>) {
      const __m512 m0 = _mm512_load_ps(p.mins + g * kMR), m1 = _mm512_load_ps(p.mins + g * kMR + 16);
      for (int t = 0; t < NT; ++t) {
        const __m512 xsum = _mm512_set1_ps(xm[g * kT + t]);
        acc[t][0] = _mm512_fmadd_ps(m0, xsum, acc[t][0]);
        acc[t][1] = _mm512_fmadd_ps(m1, xsum, acc[t][1]);
      }
    }
  }
  const __mmask16 k0m = head_mask16(min_i64(nr, 16)), k1m = head_mask16(nr > 16 ? nr - 16 : 0);
  for (int t = 0; t < NT; ++t) {
    float* yt = y + t * ldy;
    if (!first) {
      acc[t][0] = _mm512_add_ps(acc[t][0], _mm512_maskz_loadu_ps(k0m, yt));
      acc[t][1] = _mm512_add_ps(acc[t][1], _mm512_maskz_loadu_ps(k1m, yt + 16));
    }
    _mm512_mask_storeu_ps(yt, k0m, acc[t][0]);
    _mm512_mask_storeu_ps(yt + 16, k1m, acc[t][1]);
  }
}

template <DType T, int NT>
void tile_kernel_n(int64_t nt, const Packed& p, int64_t k0, int64_t kc, const Acts& a, int64_t t0, float* y,
                   int64_t ldy, int64_t nr, bool first) {
  if constexpr (NT > 1) {
    if (nt < NT) return tile_kernel_n<T, NT - 1>(nt, p, k0, kc, a, t0, y, ldy, nr, first);
  }
  tile_kernel<T, NT>(p, k0, kc, a, t0, y, ldy, nr, first);
}

}  // namespace

template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  Packed p;
  for_each_tile(
      r0, r1, w.cols, kPanelRows, kKC, kMR,
      [&](int64_t rb, int64_t nr, int64_t k0, int64_t kc) { pack_tile<T>(w, rb, nr, k0, kc, p); },
      [&](int64_t r, int64_t n, int64_t k0, int64_t kc) { i8::prefetch_rows<T>(w, r, n, k0, kc); },
      [&](int64_t rb, int64_t nr, int64_t k0, int64_t kc) {
        for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kNR)
          tile_kernel_n<T, kNR>(min_i64(kNR, a.n_tokens - t0), p, k0, kc, a, t0, y + t0 * w.rows + rb, w.rows, nr,
                                k0 == 0);
      });
}

void quantize_q8(const float* x, int64_t cols, int offset, int group, int8_t* q, float* scale, float* qsum,
                 int32_t* bias) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  for (int64_t b = 0; b < cols / 32; ++b) {
    const __m512 x0 = _mm512_loadu_ps(x + 32 * b), x1 = _mm512_loadu_ps(x + 32 * b + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, x0), _mm512_andnot_ps(sign, x1)));
    const float d = amax / 127.0f;  // the same scalar operations as the portable version
    const float id = amax > 0 ? 127.0f / amax : 0.0f;
    const __m512 vid = _mm512_set1_ps(id);
    const __m512i lim = _mm512_set1_epi32(127), nlim = _mm512_set1_epi32(-127);
    // Round to nearest even (the default rounding mode), as the portable version does.
    const __m512i q0 = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x0, vid)), lim), nlim);
    const __m512i q1 = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(x1, vid)), lim), nlim);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
    scale[b] = d;
    qsum[b] = d * static_cast<float>(_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1)));
  }
  for (int64_t g = 0; g < cols / group; ++g) {
    int32_t sum = 0;
    for (int64_t i = 0; i < group; ++i) sum += q[g * group + i];
    bias[g] = -offset * sum;
  }
}

template void gemm<DType::Q8_0>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemm<DType::Q4_0>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemm<DType::Q4_K>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemm<DType::Q5_K>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemm<DType::Q6_K>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemm<DType::MXFP4>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);

}  // namespace fare::avx512_vnni
