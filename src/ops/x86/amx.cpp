// AMX prefill: integer weights times int8 activation blocks (TDPBUSD), and BF16 weights or
// integer weights decoded to bf16 times bfloat16 activations (TDPBF16PS), on 16 x 16 output
// tiles. And decode of Q8_0 weights packed at load, for up to 16 sequences at once (TDPBSSD).
//
// The kernels are written over a Tiles backend: Hardware issues the AMX instructions; Emulated
// runs the same kernels on a scalar model of the tile registers, so the data layouts, offsets
// and scale handling are tested on CPUs without AMX (kernels.h: amx_emulated_kernels()).
//
// Layouts. A weight tile is 16 rows x K bytes straight from row-major codes (int8) or bf16
// values; an activation tile holds, for K/4 (int8) or K/2 (bf16) rows, 4 bytes of each of 16
// tokens ("VNNI" order), built once per column chunk for all tokens. Int8: every group of 32
// (Q6_K: 16) columns has its own weight scale, so each group is one TDPBUSD per output tile,
// followed by a float step (vector over 16 tokens, one row at a time) into float accumulators.
// BF16: the tile unit accumulates in float, so each output tile runs over all columns at once;
// integer weights take that path too once decoded (amx-bf16), with no float step per group.
#include <immintrin.h>

#include <cstring>
#include <vector>

#include "ops/cpu_features.h"
#include "ops/x86/avx512_common.h"
#include "ops/x86/int8_unpack.h"
#include "ops/x86/kernels_x86.h"

namespace fare::amx {

namespace {

constexpr int kRows = 2 * kRowTile;  // rows per pass: two 16-row weight tiles
constexpr int kTok = 16;             // tokens per output tile
constexpr int kKC = 256;             // columns per chunk (int8)
constexpr int kMaxTok = 256;         // tokens whose activation tiles are built at once

// Tile registers used: 0, 1 outputs (weight rows 0-15, 16-31), 2, 3 weights, 4 activations.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

TileConfig make_config(int weight_bytes, int act_rows) {
  TileConfig c;
  for (int t : {0, 1}) {
    c.rows[t] = 16;
    c.colsb[t] = 64;
  }
  for (int t : {2, 3}) {
    c.rows[t] = 16;
    c.colsb[t] = static_cast<uint16_t>(weight_bytes);
  }
  c.rows[4] = static_cast<uint8_t>(act_rows);
  c.colsb[4] = 64;
  return c;
}

// The tile intrinsics paste the register number into the instruction text, so each register
// used is spelled out. Int8 uses 0, 1 (outputs), 2, 3 (weights), 4 (activations); BF16 uses 0-3
// (a 2 x 2 block of outputs), 4, 5 (weights), 6, 7 (activations).
struct Hardware {
  static void config(const TileConfig& c) { _tile_loadconfig(&c); }
  static void release() { _tile_release(); }
  template <int T>
  static void zero() {
    static_assert(T >= 0 && T <= 3);
    if constexpr (T == 0) _tile_zero(0);
    else if constexpr (T == 1) _tile_zero(1);
    else if constexpr (T == 2) _tile_zero(2);
    else _tile_zero(3);
  }
  template <int T>
  static void load(const void* p, int64_t stride) {
    static_assert(T >= 2 && T <= 7);
    if constexpr (T == 2) _tile_loadd(2, p, stride);
    else if constexpr (T == 3) _tile_loadd(3, p, stride);
    else if constexpr (T == 4) _tile_loadd(4, p, stride);
    else if constexpr (T == 5) _tile_loadd(5, p, stride);
    else if constexpr (T == 6) _tile_loadd(6, p, stride);
    else _tile_loadd(7, p, stride);
  }
  template <int T>
  static void store(void* p, int64_t stride) {
    static_assert(T >= 0 && T <= 3);
    if constexpr (T == 0) _tile_stored(0, p, stride);
    else if constexpr (T == 1) _tile_stored(1, p, stride);
    else if constexpr (T == 2) _tile_stored(2, p, stride);
    else _tile_stored(3, p, stride);
  }
  template <int C, int A, int B>
  static void dpbusd() {
    static_assert(B == 4 && ((C == 0 && A == 2) || (C == 1 && A == 3)));
    if constexpr (C == 0) _tile_dpbusd(0, 2, 4);
    else _tile_dpbusd(1, 3, 4);
  }
  template <int C, int A, int B>
  static void dpbssd() {
    static_assert((C == 0 && A == 2 && B == 4) || (C == 1 && A == 3 && B == 5));
    if constexpr (C == 0) _tile_dpbssd(0, 2, 4);
    else _tile_dpbssd(1, 3, 5);
  }
  template <int C, int A, int B>
  static void dpbf16ps() {
    static_assert((C == 0 && A == 4 && B == 6) || (C == 1 && A == 4 && B == 7) || (C == 2 && A == 5 && B == 6) ||
                  (C == 3 && A == 5 && B == 7));
    if constexpr (C == 0) _tile_dpbf16ps(0, 4, 6);
    else if constexpr (C == 1) _tile_dpbf16ps(1, 4, 7);
    else if constexpr (C == 2) _tile_dpbf16ps(2, 5, 6);
    else _tile_dpbf16ps(3, 5, 7);
  }
};

// The tile registers and the two products as the architecture defines them, one thread's copy.
struct Emulated {
  struct State {
    uint8_t t[8][16][64];
    TileConfig cfg;
  };
  static State& st() {
    thread_local State s;
    return s;
  }
  static void config(const TileConfig& c) { st().cfg = c; }
  static void release() {}
  template <int T>
  static void zero() { std::memset(st().t[T], 0, sizeof st().t[T]); }
  template <int T>
  static void load(const void* p, int64_t stride) {
    for (int r = 0; r < st().cfg.rows[T]; ++r)
      std::memcpy(st().t[T][r], static_cast<const uint8_t*>(p) + r * stride, st().cfg.colsb[T]);
  }
  template <int T>
  static void store(void* p, int64_t stride) {
    for (int r = 0; r < st().cfg.rows[T]; ++r)
      std::memcpy(static_cast<uint8_t*>(p) + r * stride, st().t[T][r], st().cfg.colsb[T]);
  }
  // C[m][n] (int32) += sum over k of A[m][k] (unsigned, or signed: SignedA) * B[k / 4][4n + k % 4] (signed).
  template <bool SignedA, int C, int A, int B>
  static void dp_int8() {
    State& s = st();
    for (int m = 0; m < s.cfg.rows[C]; ++m)
      for (int n = 0; n < s.cfg.colsb[C] / 4; ++n) {
        int32_t acc;
        std::memcpy(&acc, &s.t[C][m][4 * n], 4);
        for (int k = 0; k < s.cfg.colsb[A]; ++k) {
          const int32_t a = SignedA ? static_cast<int8_t>(s.t[A][m][k]) : s.t[A][m][k];
          acc += a * static_cast<int8_t>(s.t[B][k / 4][4 * n + k % 4]);
        }
        std::memcpy(&s.t[C][m][4 * n], &acc, 4);
      }
  }
  template <int C, int A, int B>
  static void dpbusd() { dp_int8<false, C, A, B>(); }
  template <int C, int A, int B>
  static void dpbssd() { dp_int8<true, C, A, B>(); }
  // C[m][n] (float) += sum over pairs p of A[m][2p + i] * B[p][2n + i] (bf16).
  template <int C, int A, int B>
  static void dpbf16ps() {
    State& s = st();
    auto bf = [](const uint8_t* p) {
      uint32_t u = 0;
      std::memcpy(reinterpret_cast<uint8_t*>(&u) + 2, p, 2);
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    };
    for (int m = 0; m < s.cfg.rows[C]; ++m)
      for (int n = 0; n < s.cfg.colsb[C] / 4; ++n) {
        float acc;
        std::memcpy(&acc, &s.t[C][m][4 * n], 4);
        for (int p = 0; p < s.cfg.colsb[A] / 4; ++p)
          for (int i = 0; i < 2; ++i) acc += bf(&s.t[A][m][4 * p + 2 * i]) * bf(&s.t[B][p][4 * n + 2 * i]);
        std::memcpy(&s.t[C][m][4 * n], &acc, 4);
      }
  }
};

// Adds (or, for the first column chunk, stores) acc[i][t] into y[(t0 + t) * ldy + rb + i].
void write_out(const float (*acc)[kTok], int64_t nr, int64_t nt, float* y, int64_t ldy, bool first) {
  for (int64_t t = 0; t < nt; ++t)
    for (int64_t i = 0; i < nr; ++i) {
      float& dst = y[t * ldy + i];
      dst = first ? acc[i][t] : dst + acc[i][t];
    }
}

// ---- Int8 ----

struct Int8Chunk {
  // Activation tiles: [token block][k4 of the chunk][16 tokens][4 bytes].
  alignas(64) int8_t act[(kMaxTok / kTok) * (kKC / 4) * kTok * 4];
  // Per token block and group, over its 16 tokens: bias, activation scale, block sum.
  alignas(64) int32_t bias[(kMaxTok / kTok) * (kKC / 16) * kTok];
  alignas(64) float xs[(kMaxTok / kTok) * (kKC / 16) * kTok];
  alignas(64) float qsum[(kMaxTok / kTok) * (kKC / 16) * kTok];
  // Weight rows: codes row-major, scale [group][row], minimum [block][row].
  alignas(64) uint8_t codes[kRows * kKC];
  alignas(64) float scale[(kKC / 16) * kRows];
  alignas(64) float mins[(kKC / 32) * kRows];
};

template <int G>
void build_int8_acts(const Acts& a, int64_t ts, int64_t nt, int64_t k0, int64_t kc, Int8Chunk& ch) {
  const int64_t cols = a.cols, nb = cols / 32, ng = cols / G, n_groups = kc / G;
  const int64_t n_blocks = (nt + kTok - 1) / kTok;
  for (int64_t tb = 0; tb < n_blocks; ++tb) {
    int8_t* dst = ch.act + tb * (kKC / 4) * kTok * 4;
    for (int64_t j = 0; j < kTok; ++j) {
      const int64_t t = ts + tb * kTok + j;
      const bool real = tb * kTok + j < nt;
      for (int64_t k4 = 0; k4 < kc / 4; ++k4) {
        int8_t* d = dst + (k4 * kTok + j) * 4;
        if (real) std::memcpy(d, a.q + t * cols + k0 + 4 * k4, 4);
        else std::memset(d, 0, 4);
      }
      for (int64_t g = 0; g < n_groups; ++g) {
        const int64_t c = k0 + g * G, at = (tb * (kKC / 16) + g) * kTok + j;
        ch.bias[at] = real ? a.bias[t * ng + c / G] : 0;
        ch.xs[at] = real ? a.scale[t * nb + c / 32] : 0.0f;
        ch.qsum[at] = real ? a.qsum[t * nb + c / 32] : 0.0f;
      }
    }
  }
}

template <class Tiles, DType T>
void gemm_int8(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  constexpr int G = i8::kGroup<T>;
  Int8Chunk ch;
  alignas(64) int32_t c[kRows][kTok];
  alignas(64) float acc[kRows][kTok];
  const TileConfig cfg = make_config(G, G / 4);
  Tiles::config(cfg);
  for (int64_t ts = 0; ts < a.n_tokens; ts += kMaxTok) {
    const int64_t nt = min_i64(kMaxTok, a.n_tokens - ts);
    for (int64_t k0 = 0; k0 < w.cols; k0 += kKC) {
      const int64_t kc = min_i64(kKC, w.cols - k0);
      build_int8_acts<G>(a, ts, nt, k0, kc, ch);
      for (int64_t rb = r0; rb < r1; rb += kRows) {
        const int64_t nr = min_i64(kRows, r1 - rb);
        for (int64_t i = 0; i < kRows; ++i)
          i8::unpack_tile_row<T, kRows>(w, rb + i, i < nr, k0, kc, kc, ch.codes + i * kKC, ch.scale + i, ch.mins + i);
        for (int64_t tb = 0; tb * kTok < nt; ++tb) {
          for (auto& row : acc)
            for (float& v : row) v = 0.0f;
          for (int64_t g = 0; g < kc / G; ++g) {
            Tiles::template zero<0>();
            Tiles::template zero<1>();
            Tiles::template load<2>(ch.codes + g * G, kKC);
            Tiles::template load<3>(ch.codes + 16 * kKC + g * G, kKC);
            Tiles::template load<4>(ch.act + (tb * (kKC / 4) + g * G / 4) * kTok * 4, kTok * 4);
            Tiles::template dpbusd<0, 2, 4>();
            Tiles::template dpbusd<1, 3, 4>();
            Tiles::template store<0>(c[0], kTok * 4);
            Tiles::template store<1>(c[16], kTok * 4);
            const int64_t at = (tb * (kKC / 16) + g) * kTok;
            const __m512i bias = _mm512_load_si512(ch.bias + at);
            const __m512 xs = _mm512_load_ps(ch.xs + at), qsum = _mm512_load_ps(ch.qsum + at);
            for (int i = 0; i < kRows; ++i) {
              const __m512 f = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(c[i]), bias));
              __m512 v = _mm512_fmadd_ps(f, _mm512_mul_ps(_mm512_set1_ps(ch.scale[g * kRows + i]), xs),
                                         _mm512_load_ps(acc[i]));
              if constexpr (i8::kHasMin<T>) v = _mm512_fmadd_ps(_mm512_set1_ps(ch.mins[g * kRows + i]), qsum, v);
              _mm512_store_ps(acc[i], v);
            }
          }
          write_out(acc, nr, min_i64(kTok, nt - tb * kTok), y + (ts + tb * kTok) * w.rows + rb, w.rows, k0 == 0);
        }
      }
    }
  }
  Tiles::release();
}

// Weights packed at load (kQ8_0Tiles): each group of 16 rows, block after block, as the block's
// 16 f16 scales (32 bytes) and then its 16 x 32 codes (the weight tile, 512 bytes), so that a
// product reads one stream and no scale needs gathering.
constexpr int64_t kQ8TileBytes = 32 + 16 * 32;

size_t q8_0_tiles_bytes(int64_t rows, int64_t cols) {
  return static_cast<size_t>((rows + 15) / 16 * (cols / 32) * kQ8TileBytes);
}

void pack_q8_0_tiles(const WeightMatrix& w, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t nb = w.cols / 32;
  for (int64_t g = r0 / 16; g * 16 < r1; ++g)
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* t = dst + (g * nb + b) * kQ8TileBytes;
      std::memset(t, 0, kQ8TileBytes);
      for (int64_t i = 0; i < 16 && g * 16 + i < w.rows; ++i) {
        const uint8_t* blk = w.row(g * 16 + i) + b * 34;
        std::memcpy(t + 2 * i, blk, 2);
        std::memcpy(t + 32 + 32 * i, blk + 2, 32);
      }
    }
}

// ---- Q8_0 decode ----

// Decode of up to kTok tokens (several sequences' steps), each token one lane of every vector, so
// that a token's result is the same whatever tokens share its pass (the engine's batch
// invariance). A packed tile of 16 weight rows x one block of 32 columns times one activation
// tile of the block for all tokens (TDPBSSD: both signed, no offset) gives 16 x 16 int32 sums,
// which then take the float step of that block, row by row over the tokens:
// acc = sum * (weight scale * activation scale) + acc, block after block. The tile unit does in
// one instruction what takes vpdpbusd 16 per token, so the step costs about the same for 1 or 16
// tokens; the stored rows would have to be read as 16 streams at once, slower than the memory
// (0.75-0.8x avx512-vnni's one stream per row on a 2-core Xeon), hence the packed layout.
struct Q8DecodeActs {
  std::vector<int8_t> tiles;  // [block][8 rows of 4 columns][16 tokens x 4 bytes], zero past the last token
  std::vector<float> scale;   // [block][16 tokens], zero past the last token
};

void build_q8_decode_acts(const Acts& a, Q8DecodeActs& d) {
  const int64_t nb = a.cols / 32;
  d.tiles.assign(static_cast<size_t>(nb * 8 * 64), 0);
  d.scale.assign(static_cast<size_t>(nb * kTok), 0.0f);
  for (int64_t t = 0; t < a.n_tokens; ++t)
    for (int64_t b = 0; b < nb; ++b) {
      d.scale[static_cast<size_t>(b * kTok + t)] = a.scale[t * nb + b];
      for (int64_t k4 = 0; k4 < 8; ++k4)
        std::memcpy(&d.tiles[static_cast<size_t>((b * 8 + k4) * 64 + 4 * t)], a.q + t * a.cols + 32 * b + 4 * k4, 4);
    }
}

template <class Tiles>
void gemv_q8_0_impl(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const int64_t nb = w.cols / 32, nt = a.n_tokens, ahead = cpu_features().decode_prefetch_bytes;
  thread_local Q8DecodeActs acts;
  build_q8_decode_acts(a, acts);
  TileConfig cfg;
  for (int t : {0, 1}) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  for (int t : {2, 3}) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 32;
  }
  for (int t : {4, 5}) {
    cfg.rows[t] = 8;
    cfg.colsb[t] = 64;
  }
  Tiles::config(cfg);
  alignas(64) int32_t c[2][16][kTok];
  for (int64_t rb = r0; rb < r1; rb += 16) {  // r0 a multiple of 16; rows past the last are zero
    const uint8_t* group = w.packed + rb / 16 * nb * kQ8TileBytes;
    __m512 acc[16];
    for (auto& v : acc) v = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b += 2) {
      const int64_t n2 = min_i64(2, nb - b);
      const uint8_t* t = group + b * kQ8TileBytes;  // block b, then b + 1
      if ((b & 7) == 0)
        for (int64_t l = 0; l < 8 * kQ8TileBytes; l += 64) _mm_prefetch(reinterpret_cast<const char*>(t) + ahead + l, _MM_HINT_T0);
      // Two blocks in flight: the second's products run while the first's sums are scaled.
      Tiles::template zero<0>();
      Tiles::template load<2>(t + 32, 32);
      Tiles::template load<4>(acts.tiles.data() + b * 8 * 64, 64);
      Tiles::template dpbssd<0, 2, 4>();
      if (n2 == 2) {
        Tiles::template zero<1>();
        Tiles::template load<3>(t + kQ8TileBytes + 32, 32);
        Tiles::template load<5>(acts.tiles.data() + (b + 1) * 8 * 64, 64);
        Tiles::template dpbssd<1, 3, 5>();
      }
      Tiles::template store<0>(c[0], kTok * 4);
      if (n2 == 2) Tiles::template store<1>(c[1], kTok * 4);
      for (int64_t j = 0; j < n2; ++j) {
        alignas(64) float ws[16];
        _mm512_store_ps(ws, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + j * kQ8TileBytes))));
        const __m512 xs = _mm512_loadu_ps(acts.scale.data() + (b + j) * kTok);
        for (int i = 0; i < 16; ++i)
          acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[j][i])),
                                   _mm512_mul_ps(_mm512_set1_ps(ws[i]), xs), acc[i]);
      }
    }
    alignas(64) float out[16][kTok];
    for (int i = 0; i < 16; ++i) _mm512_store_ps(out[i], acc[i]);
    const int64_t nr = min_i64(16, r1 - rb);
    for (int64_t t = 0; t < nt; ++t)
      for (int64_t i = 0; i < nr; ++i) y[t * w.rows + rb + i] = out[i][t];
  }
  Tiles::release();
}

// ---- BF16 ----

// A 2 x 2 block of output tiles (32 weight rows x 32 tokens) accumulates over every column in
// the tile unit, with no float work between products: weight tiles are read straight from the
// row-major matrix (16 rows x 32 columns, stride = the row stride), activation tiles from
// Acts::bf_tiles, packed once per product (matmul.cpp) for all threads. Row blocks or column
// tails that do not fill a tile go through a zero-padded copy.
TileConfig bf16_config() {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = 16;
    c.colsb[t] = 64;
  }
  return c;
}

// BF16 weights: tile rows [r, r + 16) x columns [k, k + 32) in place when whole, else copied
// to a zero-padded tile.
class StoredBf16 {
 public:
  StoredBf16(const WeightMatrix& w, int64_t r1) : w_(w), r1_(r1) {}
  void begin(int64_t rb) { rb_ = rb; }
  // Half h (rows rb + 16 h ..) of the block; a block of 16 rows or fewer repeats its first.
  const uint16_t* tile(int h, int64_t k, int64_t& stride) {
    if (rb_ + 16 * h >= r1_) h = 0;
    const int64_t r = rb_ + 16 * h, nr = min_i64(16, r1_ - r), nk = min_i64(32, w_.cols - k);
    const uint8_t* src = w_.row(r) + 2 * k;
    if (nr == 16 && nk == 32) {
      stride = static_cast<int64_t>(w_.row_stride);
      return reinterpret_cast<const uint16_t*>(src);
    }
    uint16_t* pad = pad_[h];
    std::memset(pad, 0, 16 * 64);
    for (int64_t i = 0; i < nr; ++i) std::memcpy(pad + 32 * i, src + static_cast<size_t>(i) * w_.row_stride, 2 * nk);
    stride = 64;
    return pad;
  }

 private:
  const WeightMatrix& w_;
  int64_t r1_, rb_ = 0;
  alignas(64) uint16_t pad_[2][16 * 32];
};

// Integer weights: each block of 32 rows decoded once to bfloat16 into a panel of whole tiles,
// [column tile of 32][32 rows][32 values] (zero rows past the last), so that a tile
// load reads 1 KiB in a row, and every token block then reads the panel from L2 (256 KiB at
// 4096 columns). A value is the reference decoder's float (scale * (code - offset) + minimum,
// the same operations) rounded to nearest even by vcvtne2ps2bf16, which flushes subnormals: no
// decoded weight is one (the smallest nonzero is an f16 scale times a whole number) but the
// smallest of MXFP4 blocks with exponent byte 0 or 1 (scales 2^-128, 2^-127, which no checkpoint
// uses). Every other MXFP4 weight (two significant bits) is a bf16 exactly.
template <DType T>
class DecodedPanel {
 public:
  DecodedPanel(const WeightMatrix& w, int64_t r1) : w_(w), r1_(r1), n_ct_((w.cols + 31) / 32) {
    thread_local std::vector<uint16_t> panel;
    thread_local std::vector<uint8_t> codes;
    thread_local std::vector<float> scale, mins;
    panel.resize(static_cast<size_t>(n_ct_ * kRows * 32));
    codes.resize(static_cast<size_t>(w.cols));
    scale.resize(static_cast<size_t>(w.cols / 16));
    mins.resize(static_cast<size_t>(w.cols / 32));
    panel_ = panel.data();
    codes_ = codes.data();
    scale_ = scale.data();
    mins_ = mins.data();
  }
  void begin(int64_t rb) {
    if constexpr (T == DType::Q8_0) {
      if (w_.packing == &kQ8_0Tiles) {  // whole groups of 16; rows past r1 are decoded and dropped
        for (int64_t h = 0; h < kRows / 16; ++h) {
          if (rb + 16 * h < r1_) decode_packed_group(rb + 16 * h, panel_ + 16 * h * 32);
          else for (int64_t ct = 0; ct < n_ct_; ++ct) std::memset(panel_ + (ct * kRows + 16 * h) * 32, 0, 16 * 64);
        }
        return;
      }
    }
    for (int64_t i = 0; i < kRows; ++i) {
      if (rb + i < r1_) {
        decode_row(rb + i, panel_ + i * 32);
      } else {
        for (int64_t ct = 0; ct < n_ct_; ++ct) std::memset(panel_ + (ct * kRows + i) * 32, 0, 64);
      }
    }
  }
  const uint16_t* tile(int h, int64_t k, int64_t& stride) {
    stride = 64;
    return panel_ + ((k / 32) * kRows + 16 * h) * 32;
  }

 private:
  // Rows [r, r + 16) of Q8_0 weights packed as kQ8_0Tiles, tile after tile as they lie, to
  // dst[(ct * kRows + i) * 32 + c] for row r + i and column 32 ct + c: the same values as
  // decode_row (scale * code, one rounding).
  void decode_packed_group(int64_t r, uint16_t* dst) const {
    const uint8_t* t = w_.packed + r / 16 * n_ct_ * kQ8TileBytes;
    for (int64_t ct = 0; ct < n_ct_; ++ct, t += kQ8TileBytes) {
      alignas(64) float sc[16];
      _mm512_store_ps(sc, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(t))));
      for (int64_t i = 0; i < 16; ++i) {
        const int8_t* q = reinterpret_cast<const int8_t*>(t + 32 + 32 * i);
        const __m512 s = _mm512_set1_ps(sc[i]);
        const auto half = [&](int64_t c) {
          const __m512i v = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + c)));
          return _mm512_mul_ps(s, _mm512_cvtepi32_ps(v));
        };
        _mm512_storeu_si512(dst + (ct * kRows + i) * 32, (__m512i)_mm512_cvtne2ps_pbh(half(16), half(0)));
      }
    }
  }

  // Row r's values to dst[ct * kRows * 32 + c] for column 32 ct + c.
  void decode_row(int64_t r, uint16_t* dst) const {
    constexpr int G = i8::kGroup<T>;
    const int64_t cols = w_.cols;
    i8::unpack_row<T, 1>(w_, r, 0, cols, codes_, scale_, mins_);
    const __m512i offset = _mm512_set1_epi32(i8::kOffset<T>);
    auto values = [&](int64_t c) {  // the 16 values from column c on
      const __m512i u = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes_ + c)));
      const __m512 q = _mm512_cvtepi32_ps(_mm512_sub_epi32(u, offset));
      const __m512 s = _mm512_set1_ps(scale_[c / G]);
      if constexpr (i8::kHasMin<T>) return _mm512_fmadd_ps(s, q, _mm512_set1_ps(mins_[c / 32]));
      else return _mm512_mul_ps(s, q);
    };
    // Integer formats come in blocks of 32 or 256 columns: every column tile is whole.
    for (int64_t c = 0; c < cols; c += 32)
      _mm512_storeu_si512(dst + c * kRows, (__m512i)_mm512_cvtne2ps_pbh(values(c + 16), values(c)));
  }

  const WeightMatrix& w_;
  int64_t r1_, n_ct_;
  uint16_t* panel_;
  uint8_t* codes_;
  float* scale_;
  float* mins_;
};

// Rows [r0, r1) of w (their tiles from `Weights`: StoredBf16 or DecodedPanel) times every token.
template <class Tiles, class Weights>
void gemm_bf16_impl(const WeightMatrix& w, Weights& wt, const Acts& a, int64_t r0, int64_t r1, float* y) {
  const int64_t pairs = (w.cols + 31) / 32 * 16;  // column pairs per token block, tiles whole
  const int64_t n_tb = (a.n_tokens + kTok - 1) / kTok;
  alignas(64) float out[4][16][16];
  Tiles::config(bf16_config());
  for (int64_t rb = r0; rb < r1; rb += 32) {
    wt.begin(rb);
    for (int64_t tb = 0; tb < n_tb; tb += 2) {
      const bool two = tb + 1 < n_tb;
      const uint16_t* act0 = a.bf_tiles + tb * pairs * 32;
      const uint16_t* act1 = two ? act0 + pairs * 32 : act0;  // a lone last block is computed twice
      Tiles::template zero<0>();
      Tiles::template zero<1>();
      Tiles::template zero<2>();
      Tiles::template zero<3>();
      for (int64_t k = 0; k < w.cols; k += 32) {
        int64_t s0, s1;
        const uint16_t* w0 = wt.tile(0, k, s0);
        const uint16_t* w1 = wt.tile(1, k, s1);
        Tiles::template load<4>(w0, s0);
        Tiles::template load<5>(w1, s1);
        Tiles::template load<6>(act0 + k / 2 * 32, 64);
        Tiles::template load<7>(act1 + k / 2 * 32, 64);
        Tiles::template dpbf16ps<0, 4, 6>();
        Tiles::template dpbf16ps<1, 4, 7>();
        Tiles::template dpbf16ps<2, 5, 6>();
        Tiles::template dpbf16ps<3, 5, 7>();
      }
      Tiles::template store<0>(out[0], 64);
      Tiles::template store<1>(out[1], 64);
      Tiles::template store<2>(out[2], 64);
      Tiles::template store<3>(out[3], 64);
      // out[2 * h + j][m][n]: weight row rb + 16 h + m, token 16 (tb + j) + n.
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < (two ? 2 : 1); ++j) {
          const int64_t nr = min_i64(16, r1 - rb - 16 * h), t0 = (tb + j) * kTok;
          const int64_t nt = min_i64(kTok, a.n_tokens - t0);
          for (int64_t n = 0; n < nt; ++n)
            for (int64_t m = 0; m < nr; ++m) y[(t0 + n) * w.rows + rb + 16 * h + m] = out[2 * h + j][m][n];
        }
    }
  }
  Tiles::release();
}

template <class Tiles>
void gemm_stored_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  StoredBf16 wt(w, r1);
  gemm_bf16_impl<Tiles>(w, wt, a, r0, r1, y);
}

template <class Tiles, DType T>
void gemm_decoded_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  DecodedPanel<T> wt(w, r1);
  gemm_bf16_impl<Tiles>(w, wt, a, r0, r1, y);
}

}  // namespace

template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_int8<Hardware, T>(w, a, r0, r1, y);
}

template <DType T>
void gemm_decoded(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_decoded_bf16<Hardware, T>(w, a, r0, r1, y);
}

void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_stored_bf16<Hardware>(w, a, r0, r1, y);
}

void gemv_q8_0_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_q8_0_impl<Hardware>(w, a, r0, r1, y);
}

const WeightPacking kQ8_0Tiles{16, &q8_0_tiles_bytes, &pack_q8_0_tiles, true};

namespace emulated {

template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_int8<Emulated, T>(w, a, r0, r1, y);
}

template <DType T>
void gemm_decoded(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_decoded_bf16<Emulated, T>(w, a, r0, r1, y);
}

void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemm_stored_bf16<Emulated>(w, a, r0, r1, y);
}

void gemv_q8_0_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  gemv_q8_0_impl<Emulated>(w, a, r0, r1, y);
}

}  // namespace emulated

#define FARE_INSTANTIATE(T)                                                                           \
  template void gemm<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);                 \
  template void gemm_decoded<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);         \
  template void emulated::gemm<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);       \
  template void emulated::gemm_decoded<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
FARE_INSTANTIATE(DType::Q8_0)
FARE_INSTANTIATE(DType::Q4_0)
FARE_INSTANTIATE(DType::Q4_K)
FARE_INSTANTIATE(DType::Q5_K)
FARE_INSTANTIATE(DType::Q6_K)
FARE_INSTANTIATE(DType::MXFP4)
#undef FARE_INSTANTIATE

}  // namespace fare::amx
