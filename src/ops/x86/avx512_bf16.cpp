// AVX-512 BF16 for BF16 weights: activations arrive rounded to bfloat16 and vdpbf16ps adds two
// bf16 products per lane into float accumulators, twice the multiply rate of float FMA and no
// conversion of the weights.
//
// Prefill reads the weights where they lie: each lane of an accumulator is one token, and a
// column pair of one weight row is broadcast to all of them, so the stored rows need no
// transposition (the tile of 32 rows that had been transposed on every product cost 9 % of the
// kernel's time). The activations come as panels of 64 tokens per column pair
// (ActFormat::BF16_PANELS), a register block is 6 rows x 64 tokens, and its sums, token-major in
// lanes, go to a row-major scratch that is transposed into the output once per panel of rows.
//
// Weights packed at load (kBf16PairTiles) hold each block of 48 rows as [column pair][row][2]:
// decode then reads one stream per block instead of one per row (+2-6 % tokens/s on FARE-8B).
// Prefill walks them with the same kernel, a row step of 4 bytes instead of the row stride, 3-5 %
// slower than on stored rows (a tile of 6 rows uses 24 of each 192 bytes it reads).
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "ops/x86/avx512_common.h"
#include "ops/x86/kernels_x86.h"

namespace fare::avx512_bf16 {

namespace {

constexpr int kBlock = kRowTile;  // rows per packed block; prefill row ranges start at multiples of it
constexpr int kTileRows = 6;      // 6 rows x 4 token vectors: 24 accumulators, 4 loads, 6 broadcasts
constexpr int kTokenVecs = kBf16PanelTokens / 16;
constexpr int64_t kPairs = kBf16PanelPairs;  // column pairs per chunk
// Rows multiplied through all columns before the next rows start, so that their sums (96 rows x
// 512 tokens of floats) stay in L2 between column chunks.
constexpr int64_t kPanelRows = 2 * kBlock;
static_assert(kBlock % kTileRows == 0 && kBlock % 16 == 0 && kTokenVecs * 16 == kBf16PanelTokens);

// Where the pairs of weight rows lie: address of (row r, pair p), and the steps between rows and
// between pairs of one tile of rows (which never crosses a packed block).
struct StoredRows {
  const WeightMatrix& w;
  const uint8_t* at(int64_t r, int64_t p) const { return w.row(r) + 4 * p; }
  int64_t row_step() const { return static_cast<int64_t>(w.row_stride); }
  static constexpr int64_t pair_step = 4;
  // Rows [r, r + n), pairs [p, p + np) to L2, asked for before the tile ahead of them.
  void prefetch(int64_t r, int64_t n, int64_t p, int64_t np) const { prefetch_rows_l2(w, r, n, 4 * p, 4 * np); }
};

struct PackedRows {
  const WeightMatrix& w;
  int64_t pairs;  // of a row, (cols + 1) / 2
  const uint8_t* at(int64_t r, int64_t p) const {
    return w.packed + ((r / kBlock) * pairs + p) * 4 * kBlock + (r % kBlock) * 4;
  }
  static int64_t row_step() { return 4; }
  static constexpr int64_t pair_step = 4 * kBlock;
  void prefetch(int64_t r, int64_t, int64_t p, int64_t np) const {
    if (r % kBlock != 0) return;  // one run of memory per block: asked for at its first tile
    const char* b = reinterpret_cast<const char*>(at(r, p));
    for (int64_t i = 0; i < np * pair_step; i += 64) _mm_prefetch(b + i, _MM_HINT_T1);
  }
};

// yt[r * ldt + 16 v + j] (+)= sum over `pairs` column pairs of row r's pair times token 16 v + j's
// pair, for R rows from w0 (row_step bytes apart, pair_step bytes between pairs) and the panel x
// of kBf16PanelTokens tokens; `odd`: one more column, the last, whose pair holds one value.
template <int R, int V>
void tile(const uint8_t* w0, int64_t row_step, int64_t pair_step, int64_t pairs, bool odd, const int32_t* x,
          float* yt, int64_t ldt, bool first) {
  __m512 acc[R][V];
  for (auto& r : acc)
    for (auto& v : r) v = _mm512_setzero_ps();
  const uint8_t* rows[R];
  for (int r = 0; r < R; ++r) rows[r] = w0 + r * row_step;
  const auto step = [&](int64_t offset, bool last_alone) {
    __m512bh xv[V];
    for (int v = 0; v < V; ++v) xv[v] = (__m512bh)_mm512_loadu_si512(x + 16 * v);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      int32_t pair = 0;
      std::memcpy(&pair, rows[r] + offset, last_alone ? 2 : 4);  // past the row: not read
      const __m512bh b = (__m512bh)_mm512_set1_epi32(pair);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], b, xv[v]);
    }
    x += kBf16PanelTokens;
  };
  int64_t offset = 0;
  for (int64_t p = 0; p < pairs; ++p, offset += pair_step) step(offset, false);
  if (odd) step(offset, true);
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      float* d = yt + r * ldt + 16 * v;
      _mm512_store_ps(d, first ? acc[r][v] : _mm512_add_ps(acc[r][v], _mm512_load_ps(d)));
    }
}

// tile<nr, nv> for nr <= R rows and nv <= V token vectors: the edges of a matrix or a prompt.
template <int R, int V>
void tile_n(int nr, int nv, const uint8_t* w0, int64_t row_step, int64_t pair_step, int64_t pairs, bool odd,
            const int32_t* x, float* yt, int64_t ldt, bool first) {
  if constexpr (R > 1) {
    if (nr < R) return tile_n<R - 1, V>(nr, nv, w0, row_step, pair_step, pairs, odd, x, yt, ldt, first);
  }
  if constexpr (V > 1) {
    if (nv < V) return tile_n<R, V - 1>(nr, nv, w0, row_step, pair_step, pairs, odd, x, yt, ldt, first);
  }
  tile<R, V>(w0, row_step, pair_step, pairs, odd, x, yt, ldt, first);
}

// yt[r * ldt + t] for rows [0, nr) and tokens [0, n) into y[t * ldy + r], a token's rows before
// the next token's: its lines follow each other in y. Rows first had written one line per token,
// 16-48 KiB apart, into one set of L1, and had spent 3.4 % of a BF16 prefill in the stores.
void transpose_out(const float* yt, int64_t ldt, int64_t nr, int64_t n, float* y, int64_t ldy) {
  const int64_t nr16 = nr / 16 * 16, n16 = n / 16 * 16;
  for (int64_t t = 0; t < n16; t += 16)
    for (int64_t r = 0; r < nr16; r += 16) transpose16x16_32(yt + r * ldt + t, ldt, y + t * ldy + r, ldy);
  for (int64_t r = 0; r < nr16; ++r)
    for (int64_t t = n16; t < n; ++t) y[t * ldy + r] = yt[r * ldt + t];
  for (int64_t r = nr16; r < nr; ++r)
    for (int64_t t = 0; t < n; ++t) y[t * ldy + r] = yt[r * ldt + t];
}

// A thread's scratch for the sums of one panel of rows, 64-byte aligned; kept, so that no product
// allocates.
float* panel_sums(int64_t floats) {
  thread_local std::vector<float> buf;
  if (buf.size() < static_cast<size_t>(floats + 16)) buf.resize(static_cast<size_t>(floats + 16));
  return buf.data() + (16 - reinterpret_cast<uintptr_t>(buf.data()) / 4 % 16) % 16;
}

// Rows [r0, r1) of the product: each panel of rows through every column chunk, each tile of rows
// of a chunk against every token block (the tile's weights stay in L1 meanwhile, the panels
// stream from L2), the next tile's weights asked for first.
template <class Rows>
void gemm_rows(const Rows& w, int64_t cols, const Acts& a, int64_t r0, int64_t r1, float* y, int64_t ldy) {
  constexpr int64_t kT = kBf16PanelTokens;
  const int64_t n_blocks = (a.n_tokens + kT - 1) / kT, ldt = n_blocks * kT, pairs = (cols + 1) / 2;
  float* yt = panel_sums(kPanelRows * ldt);
  const auto* panels = reinterpret_cast<const int32_t*>(a.bf_panels);
  for (int64_t p0 = r0; p0 < r1; p0 += kPanelRows) {
    const int64_t p1 = min_i64(r1, p0 + kPanelRows);
    for (int64_t c0 = 0; c0 < pairs; c0 += kPairs) {
      const int64_t pc = min_i64(kPairs, pairs - c0);
      const bool odd = c0 + pc == pairs && (cols & 1);
      const int32_t* chunk = panels + c0 * n_blocks * kT;
      for (int64_t rb = p0; rb < p1; rb += kTileRows) {
        if (rb + kTileRows < p1)
          w.prefetch(rb + kTileRows, min_i64(kTileRows, p1 - rb - kTileRows), c0, pc);
        else if (c0 + kPairs < pairs)
          w.prefetch(p0, min_i64(kTileRows, p1 - p0), c0 + kPairs, min_i64(kPairs, pairs - c0 - kPairs));
        else if (p1 < r1)
          w.prefetch(p1, min_i64(kTileRows, r1 - p1), 0, min_i64(kPairs, pairs));
        const int nr = static_cast<int>(min_i64(kTileRows, p1 - rb));
        for (int64_t tb = 0; tb < n_blocks; ++tb) {
          const int nv = static_cast<int>((min_i64(kT, a.n_tokens - tb * kT) + 15) / 16);
          tile_n<kTileRows, kTokenVecs>(nr, nv, w.at(rb, c0), w.row_step(), w.pair_step, pc - (odd ? 1 : 0), odd,
                                        chunk + tb * pc * kT, yt + (rb - p0) * ldt + tb * kT, ldt, c0 == 0);
        }
      }
    }
    transpose_out(yt, ldt, p1 - p0, a.n_tokens, y + p0, ldy);
  }
}

// Decode on packed weights: each block of 48 rows is one stream of [pair][48 rows][2], read with
// the 8 KiB prefetch distance of the row kernels; the 48 sums of a block stay in lanes (no
// horizontal reduction), two pairs at a time in separate accumulators so that the multiply-add
// latency does not limit one token's rate.
template <int NT>
void gemv_packed_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  constexpr int kV = kBlock / 16;
  const int64_t ld = w.cols + (w.cols & 1), pairs = ld / 2;
  const PackedRows packed{w, pairs};
  for (int64_t rb = r0; rb < r1; rb += kBlock) {
    const uint8_t* blk = packed.at(rb, 0);
    __m512 acc[2][NT][kV];
    for (auto& u : acc)
      for (auto& t : u)
        for (auto& v : t) v = _mm512_setzero_ps();
    const auto step = [&](int u, int64_t p) {
      const uint8_t* wp = blk + p * PackedRows::pair_step;
      __m512bh wv[kV];
      for (int v = 0; v < kV; ++v) wv[v] = (__m512bh)_mm512_load_si512(wp + 64 * v);
      for (int t = 0; t < NT; ++t) {
        int32_t pair;
        std::memcpy(&pair, a.bf + t * ld + 2 * p, 4);
        const __m512bh b = (__m512bh)_mm512_set1_epi32(pair);
        for (int v = 0; v < kV; ++v) acc[u][t][v] = _mm512_dpbf16_ps(acc[u][t][v], wv[v], b);
      }
    };
    int64_t p = 0;
    for (; p + 2 <= pairs; p += 2) {
      for (int64_t b = 0; b < 2 * PackedRows::pair_step; b += 64)
        _mm_prefetch(reinterpret_cast<const char*>(blk + p * PackedRows::pair_step) + 8192 + b, _MM_HINT_T0);
      step(0, p);
      step(1, p + 1);
    }
    if (p < pairs) step(0, p);
    const int64_t nr = min_i64(kBlock, w.rows - rb);
    for (int t = 0; t < NT; ++t)
      for (int v = 0; v < kV; ++v) {
        const int64_t left = nr - 16 * v;
        if (left <= 0) break;
        _mm512_mask_storeu_ps(y + t * w.rows + rb + 16 * v, head_mask16(min_i64(left, 16)),
                              _mm512_add_ps(acc[0][t][v], acc[1][t][v]));
      }
  }
}

// Rows [r0, r1) of w into the packed layout (see the file comment), zeros past the last row and
// column. Whole blocks of 16 rows x 32 columns go through the register transpose; the edges are
// copied a value at a time.
void pack_rows(const WeightMatrix& w, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t pairs = (w.cols + 1) / 2;
  for (int64_t rb = r0; rb < r1; rb += kBlock) {
    const int64_t nr = min_i64(kBlock, w.rows - rb);
    auto* out = reinterpret_cast<uint16_t*>(dst) + rb / kBlock * pairs * 2 * kBlock;
    int64_t c = 0;
    if (nr == kBlock && w.row_stride % 4 == 0)
      for (; c + 32 <= w.cols; c += 32)
        for (int h = 0; h < kBlock / 16; ++h)
          transpose16x16_32(w.row(rb + 16 * h) + 2 * c, static_cast<int64_t>(w.row_stride / 4),
                            out + (c / 2) * 2 * kBlock + 16 * h * 2, kBlock);
    for (int64_t p = c / 2; p < pairs; ++p)
      for (int64_t r = 0; r < kBlock; ++r)
        for (int64_t i = 0; i < 2; ++i) {
          uint16_t v = 0;
          if (r < nr && 2 * p + i < w.cols) std::memcpy(&v, w.row(rb + r) + 2 * (2 * p + i), 2);
          out[(p * kBlock + r) * 2 + i] = v;
        }
  }
}

size_t packed_bytes(int64_t rows, int64_t cols) {
  return static_cast<size_t>((rows + kBlock - 1) / kBlock) * static_cast<size_t>((cols + 1) / 2) * 4 * kBlock;
}

// Decode: one row at a time (prefetched 8 KiB ahead: see avx512_vnni_gemv.cpp), 32 columns per
// vdpbf16ps.
template <int NT>
void gemv_row(const WeightMatrix& w, const uint16_t* x, int64_t ld, int64_t r, float* y) {
  __m512 acc[NT];
  for (auto& v : acc) v = _mm512_setzero_ps();
  const auto* row = reinterpret_cast<const uint16_t*>(w.row(r));
  int64_t c = 0;
  for (; c + 32 <= w.cols; c += 32) {
    if (c % 256 == 0)
      for (int b = 0; b < 512; b += 64) _mm_prefetch(reinterpret_cast<const char*>(row + c) + 8192 + b, _MM_HINT_T0);
    const __m512bh wv = (__m512bh)_mm512_loadu_si512(row + c);
    for (int t = 0; t < NT; ++t) acc[t] = _mm512_dpbf16_ps(acc[t], wv, (__m512bh)_mm512_loadu_si512(x + t * ld + c));
  }
  if (c < w.cols) {  // zeros past the row end: the activation pad and the masked weights
    const __mmask32 m = static_cast<__mmask32>((1ull << (w.cols - c)) - 1);
    const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, row + c);
    for (int t = 0; t < NT; ++t)
      acc[t] = _mm512_dpbf16_ps(acc[t], wv, (__m512bh)_mm512_maskz_loadu_epi16(m, x + t * ld + c));
  }
  for (int t = 0; t < NT; ++t) y[t * w.rows + r] = _mm512_reduce_add_ps(acc[t]);
}

template <int NT>
void gemv_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const int64_t ld = w.cols + (w.cols & 1);
  for (int64_t r = r0; r < r1; ++r) gemv_row<NT>(w, a.bf, ld, r, y);
}

// The high halves of v's floats rounded to nearest even, as f32_to_bf16: a NaN gets its quiet
// bit instead of a rounding carry, which could make it infinite. (vcvtne2ps2bf16 would flush
// subnormals to zero: not the bytes of the portable writer.)
__m512i round_to_high_half(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  return _mm512_mask_or_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), u, _mm512_set1_epi32(0x400000));
}

// The 32 floats at x, of which `left` lie in the row (zeros past it), as 16 pairs of bf16.
__m512i round_pairs(const float* x, int64_t left) {
  const __m512 lo = _mm512_maskz_loadu_ps(head_mask16(left), x);
  const __m512 hi = left > 16 ? _mm512_maskz_loadu_ps(head_mask16(left - 16), x + 16) : _mm512_setzero_ps();
  const __m512i odd_words = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29, 27,
                                             25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  return _mm512_permutex2var_epi16(round_to_high_half(lo), odd_words, round_to_high_half(hi));
}

}  // namespace

// 16 tokens x 16 pairs at a time: rounded in registers and transposed there, so that each store
// is one whole column pair of 16 tokens (the portable spread writes one pair at a time, 256
// bytes apart).
void bf16_panel_block(const float* x, int64_t n, int64_t cols, int64_t b, uint32_t* out) {
  constexpr int64_t kT = kBf16PanelTokens;
  const int64_t n_blocks = (n + kT - 1) / kT, pairs = (cols + 1) / 2;
  for (int64_t g = 0; g < kT; g += 16) {
    const int64_t t0 = b * kT + g;
    for (int64_t c0 = 0; c0 < pairs; c0 += kPairs) {
      const int64_t pc = min_i64(kPairs, pairs - c0);
      uint32_t* dst = out + (c0 * n_blocks + b * pc) * kT + g;
      for (int64_t p = 0; p < pc; p += 16) {
        const int64_t col = 2 * (c0 + p);
        __m512 v[16];
        for (int64_t i = 0; i < 16; ++i)
          v[i] = t0 + i < n ? _mm512_castsi512_ps(round_pairs(x + (t0 + i) * cols + col, cols - col))
                            : _mm512_setzero_ps();
        transpose16x16_32(v);
        for (int64_t j = 0; j < min_i64(16, pc - p); ++j) _mm512_storeu_ps(dst + (p + j) * kT, v[j]);
      }
    }
  }
}

void gemv_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  with_token_count(a.n_tokens, [&](auto nt) { gemv_n<nt()>(w, a, r0, r1, y); });
}

void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_rows(StoredRows{w}, w.cols, a, r0, r1, y, w.rows);
}

const WeightPacking kBf16PairTiles{kBlock, &packed_bytes, &pack_rows};

void gemv_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  with_token_count(a.n_tokens, [&](auto nt) { gemv_packed_n<nt()>(w, a, r0, r1, y); });
}

void gemm_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_rows(PackedRows{w, (w.cols + 1) / 2}, w.cols, a, r0, r1, y, w.rows);
}

}  // namespace fare::avx512_bf16
