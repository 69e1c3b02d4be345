// AVX-512 BF16 for BF16 weights: activations arrive rounded to bfloat16 (ActFormat::BF16) and
// vdpbf16ps adds two bf16 products per lane into float accumulators, twice the multiply rate of
// float FMA and no conversion of the weights. Prefill multiplies 32-row x 512-column weight tiles
// stored as [column pair][row][2 bf16] with a 32-row x 12-token register block over all tokens.
// Stored rows are transposed into that tile on every product; weights packed at load
// (kBf16PairTiles) already hold each block of 32 rows as [column pair][row][2] for all columns,
// so a tile is one run of memory to read, for prefill and for decode alike.
#include <immintrin.h>

#include <cstring>

#include "ops/x86/avx512_common.h"
#include "ops/x86/kernels_x86.h"

namespace fare::avx512_bf16 {

namespace {

constexpr int kMR = kRowTile;
constexpr int kNR = 12;
constexpr int kKC = 512;
// Rows multiplied through all columns before the next rows start, so the results of a panel
// (128 rows x 256 tokens of floats) stay in L2 between column chunks: +5-12 % GFLOP/s, +15-30 %
// on the 12288-row matrices, whose results overflowed it (avx512_vnni.cpp does the same).
constexpr int64_t kPanelRows = 128;

// Rows [rb, rb + nr) x columns [k0, k0 + kc) of w as [column pair][32 rows][2 bf16] at out:
// ceil(kc / 2) pairs, zeros past the last row and column. Whole 32 x 32 blocks go through the
// register transpose straight from the weights; the edges are copied a value at a time. Serves
// the tile of every prefill product and the packing at load alike.
void transpose_rows(const WeightMatrix& w, int64_t rb, int64_t nr, int64_t k0, int64_t kc, uint16_t* out) {
  int64_t c = 0;
  if (nr == kMR && w.row_stride % 4 == 0)
    for (; c + 32 <= kc; c += 32)
      for (int h = 0; h < 2; ++h)
        transpose16x16_32(w.row(rb + 16 * h) + 2 * (k0 + c), static_cast<int64_t>(w.row_stride / 4),
                          out + (c / 2) * 2 * kMR + 16 * h * 2, kMR);
  for (int64_t p = c / 2; p < (kc + 1) / 2; ++p)
    for (int64_t r = 0; r < kMR; ++r)
      for (int64_t i = 0; i < 2; ++i) {
        uint16_t v = 0;
        if (r < nr && 2 * p + i < kc) std::memcpy(&v, w.row(rb + r) + 2 * (k0 + 2 * p + i), 2);
        out[(p * kMR + r) * 2 + i] = v;
      }
}

// x: the panel of kNR tokens (Acts::bf_panels) at the tile's first column pair.
template <int NT>
void tile_kernel(const uint16_t* tile, int64_t kc, const int32_t* x, float* y, int64_t ldy, int64_t nr, bool first) {
  __m512 acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = _mm512_setzero_ps();
  const uint16_t* a = tile;
  for (int64_t k = 0; k < kc; k += 2, a += 2 * kMR, x += kNR) {
    const __m512bh a0 = (__m512bh)_mm512_load_si512(a), a1 = (__m512bh)_mm512_load_si512(a + 32);
    for (int t = 0; t < NT; ++t) {
      const __m512bh b = (__m512bh)_mm512_set1_epi32(x[t]);
      acc[t][0] = _mm512_dpbf16_ps(acc[t][0], a0, b);
      acc[t][1] = _mm512_dpbf16_ps(acc[t][1], a1, b);
    }
  }
  const __mmask16 m0 = head_mask16(min_i64(nr, 16)), m1 = head_mask16(nr > 16 ? nr - 16 : 0);
  for (int t = 0; t < NT; ++t) {
    float* yt = y + t * ldy;
    if (!first) {
      acc[t][0] = _mm512_add_ps(acc[t][0], _mm512_maskz_loadu_ps(m0, yt));
      acc[t][1] = _mm512_add_ps(acc[t][1], _mm512_maskz_loadu_ps(m1, yt + 16));
    }
    _mm512_mask_storeu_ps(yt, m0, acc[t][0]);
    _mm512_mask_storeu_ps(yt + 16, m1, acc[t][1]);
  }
}

template <int NT>
void tile_kernel_n(int64_t nt, const uint16_t* tile, int64_t kc, const int32_t* x, float* y, int64_t ldy, int64_t nr,
                   bool first) {
  if constexpr (NT > 1) {
    if (nt < NT) return tile_kernel_n<NT - 1>(nt, tile, kc, x, y, ldy, nr, first);
  }
  tile_kernel<NT>(tile, kc, x, y, ldy, nr, first);
}

// One tile (rows rb.., nr of them, columns k0.., kc of them) times every token of the panels.
void multiply_tile(const uint16_t* tile, const WeightMatrix& w, const Acts& a, int64_t rb, int64_t nr, int64_t k0,
                   int64_t kc, float* y) {
  static_assert(kNR == kBf16PanelTokens && kKC == 2 * kBf16PanelPairs);
  const int64_t pairs = (w.cols + 1) / 2, n_blocks = (a.n_tokens + kNR - 1) / kNR;
  const int64_t pc = min_i64(kBf16PanelPairs, pairs - k0 / 2);  // pairs of this chunk
  const int32_t* chunk = reinterpret_cast<const int32_t*>(a.bf_panels) + k0 / 2 * n_blocks * kNR;
  for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kNR)
    tile_kernel_n<kNR>(min_i64(kNR, a.n_tokens - t0), tile, kc, chunk + t0 / kNR * pc * kNR, y + t0 * w.rows + rb,
                       w.rows, nr, k0 == 0);
}

// Packed weights: the block of rows starting at rb, from column k0 on.
const uint16_t* packed_at(const WeightMatrix& w, int64_t rb, int64_t k0) {
  const int64_t pairs = (w.cols + 1) / 2;
  return reinterpret_cast<const uint16_t*>(w.packed) + (rb / kMR * pairs + k0 / 2) * 2 * kMR;
}

// Decode on packed weights: each block of 32 rows is one stream of [pair][32 rows][2], read with
// the 8 KiB prefetch distance of the row kernels; the 32 sums of a block stay in lanes (no
// horizontal reduction), two pairs at a time in separate accumulators so that the multiply-add
// latency does not limit one token's rate.
template <int NT>
void gemv_packed_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const int64_t ld = w.cols + (w.cols & 1), pairs = ld / 2;
  for (int64_t rb = r0; rb < r1; rb += kMR) {
    const uint16_t* blk = packed_at(w, rb, 0);
    __m512 acc[2][NT][2];
    for (auto& u : acc)
      for (auto& t : u) t[0] = t[1] = _mm512_setzero_ps();
    const auto step = [&](int u, int64_t p) {
      const uint16_t* wp = blk + p * 2 * kMR;
      const __m512bh a0 = (__m512bh)_mm512_load_si512(wp), a1 = (__m512bh)_mm512_load_si512(wp + 32);
      for (int t = 0; t < NT; ++t) {
        int32_t pair;
        std::memcpy(&pair, a.bf + t * ld + 2 * p, 4);
        const __m512bh b = (__m512bh)_mm512_set1_epi32(pair);
        acc[u][t][0] = _mm512_dpbf16_ps(acc[u][t][0], a0, b);
        acc[u][t][1] = _mm512_dpbf16_ps(acc[u][t][1], a1, b);
      }
    };
    int64_t p = 0;
    for (; p + 2 <= pairs; p += 2) {
      if (p % 4 == 0)
        for (int b = 0; b < 512; b += 64)
          _mm_prefetch(reinterpret_cast<const char*>(blk + p * 2 * kMR) + 8192 + b, _MM_HINT_T0);
      step(0, p);
      step(1, p + 1);
    }
    if (p < pairs) step(0, p);
    const int64_t nr = min_i64(kMR, w.rows - rb);
    const __mmask16 m0 = head_mask16(min_i64(nr, 16)), m1 = head_mask16(nr > 16 ? nr - 16 : 0);
    for (int t = 0; t < NT; ++t) {
      float* yt = y + t * w.rows + rb;
      _mm512_mask_storeu_ps(yt, m0, _mm512_add_ps(acc[0][t][0], acc[1][t][0]));
      _mm512_mask_storeu_ps(yt + 16, m1, _mm512_add_ps(acc[0][t][1], acc[1][t][1]));
    }
  }
}

// Rows [r0, r1) of w into the packed layout (see the file comment).
void pack_rows(const WeightMatrix& w, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t pairs = (w.cols + 1) / 2;
  for (int64_t rb = r0; rb < r1; rb += kMR)
    transpose_rows(w, rb, min_i64(kMR, w.rows - rb), 0, w.cols,
                   reinterpret_cast<uint16_t*>(dst) + rb / kMR * pairs * 2 * kMR);
}

size_t packed_bytes(int64_t rows, int64_t cols) {
  return static_cast<size_t>((rows + kMR - 1) / kMR) * static_cast<size_t>((cols + 1) / 2) * 4 * kMR;
}

// Decode: one row at a time (prefetched 8 KiB ahead: see avx512_vnni_gemv.cpp), 32 columns per
// vdpbf16ps.
template <int R, int NT>
void gemv_block(const WeightMatrix& w, const uint16_t* x, int64_t ld, int64_t r, float* y) {
  __m512 acc[R][NT];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  const uint16_t* rows[R];
  for (int i = 0; i < R; ++i)
    rows[i] = reinterpret_cast<const uint16_t*>(w.row(r + i));
  int64_t c = 0;
  for (; c + 32 <= w.cols; c += 32) {
    if (c % 256 == 0)
      for (int i = 0; i < R; ++i)
        for (int b = 0; b < 512; b += 64)
          _mm_prefetch(reinterpret_cast<const char*>(rows[i] + c) + 8192 + b, _MM_HINT_T0);
    __m512bh xv[NT];
    for (int t = 0; t < NT; ++t) xv[t] = (__m512bh)_mm512_loadu_si512(x + t * ld + c);
    for (int i = 0; i < R; ++i) {
      const __m512bh wv = (__m512bh)_mm512_loadu_si512(rows[i] + c);
      for (int t = 0; t < NT; ++t) acc[i][t] = _mm512_dpbf16_ps(acc[i][t], wv, xv[t]);
    }
  }
  if (c < w.cols) {  // zeros past the row end: the activation pad and the masked weights
    const __mmask32 m = static_cast<__mmask32>((1ull << (w.cols - c)) - 1);
    __m512bh xv[NT];
    for (int t = 0; t < NT; ++t) xv[t] = (__m512bh)_mm512_maskz_loadu_epi16(m, x + t * ld + c);
    for (int i = 0; i < R; ++i) {
      const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, rows[i] + c);
      for (int t = 0; t < NT; ++t) acc[i][t] = _mm512_dpbf16_ps(acc[i][t], wv, xv[t]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < NT; ++t) y[t * w.rows + r + i] = _mm512_reduce_add_ps(acc[i][t]);
}

template <int NT>
void gemv_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const int64_t ld = w.cols + (w.cols & 1);
  for (int64_t r = r0; r < r1; ++r) gemv_block<1, NT>(w, a.bf, ld, r, y);
}

}  // namespace

void gemv_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  with_token_count(a.n_tokens, [&](auto nt) { gemv_n<nt()>(w, a, r0, r1, y); });
}

void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  alignas(64) uint16_t tile[kKC * kMR];  // [kc/2][32 rows][2]
  for_each_tile(
      r0, r1, w.cols, kPanelRows, kKC, kMR,
      [&](int64_t rb, int64_t nr, int64_t k0, int64_t kc) { transpose_rows(w, rb, nr, k0, kc, tile); },
      // Copying a tile's rows straight from memory had been an eighth of this kernel's time; with
      // the next tile prefetched and the copy gone (transpose_rows), pp512 +5-6 % end to end.
      [&](int64_t r, int64_t n, int64_t k0, int64_t kc) { prefetch_rows_l2(w, r, n, 2 * k0, 2 * kc); },
      [&](int64_t rb, int64_t nr, int64_t k0, int64_t kc) { multiply_tile(tile, w, a, rb, nr, k0, kc, y); });
}

const WeightPacking kBf16PairTiles{kMR, &packed_bytes, &pack_rows};

void gemv_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  with_token_count(a.n_tokens, [&](auto nt) { gemv_packed_n<nt()>(w, a, r0, r1, y); });
}

void gemm_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const uint16_t* tile = nullptr;
  for_each_tile(
      r0, r1, w.cols, kPanelRows, kKC, kMR,
      [&](int64_t rb, int64_t, int64_t k0, int64_t) { tile = packed_at(w, rb, k0); },
      [&](int64_t r, int64_t, int64_t k0, int64_t kc) {
        const char* next = reinterpret_cast<const char*>(packed_at(w, r, k0));
        for (int64_t b = 0; b < (kc + 1) / 2 * 4 * kMR; b += 64) _mm_prefetch(next + b, _MM_HINT_T1);
      },
      [&](int64_t rb, int64_t nr, int64_t k0, int64_t kc) { multiply_tile(tile, w, a, rb, nr, k0, kc, y); });
}

}  // namespace fare::avx512_bf16
