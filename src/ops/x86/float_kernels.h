// The float-activation (exact) kernels, written once over a vector type V and instantiated by
// avx2.cpp and avx512.cpp with their own flags. Every weight is decoded to the float the
// reference decoder gives (same operations in the same order) and multiplied with FMA.
//
// Decode (few tokens): rows are streamed once, four at a time; block types are converted in
// registers and each block's scale is applied to its partial dot product (fused_chunk), the
// rarer ones are decoded 256 values at a time into an L1 buffer. Prefill: a tile of 2 vectors'
// worth of rows x 256 columns is decoded once, stored column-major, and a register-blocked
// outer-product kernel (2 vectors of rows x V::kTokens tokens) runs it over all tokens.
//
// V provides: F (float vector), I (int32 vector), kLanes, kTokens, kRegisters, and the static functions
// used below. Internal linkage: see kernels_x86.h.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "ops/dequant.h"
#include "ops/kernels.h"
#include "ops/x86/k_quant_scales.h"
#include "ops/x86/mxfp4_codes.h"

namespace fare {
namespace {

namespace fk {

constexpr int kKC = 256;  // columns per decoded chunk: one K-quant super-block

inline int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }

inline float f16_scalar(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// Block geometry of the non-plain weight types (as dtype.cpp's table), as constants for the
// loops: a call to traits() per chunk showed in profiles.
template <DType T>
constexpr int64_t kBlockElems = T == DType::F8_E4M3 || T == DType::F32 || T == DType::F16 || T == DType::BF16 ? 1
                                : T == DType::Q8_0 || T == DType::Q4_0 || T == DType::MXFP4                    ? 32
                                                                                                               : 256;
template <DType T>
constexpr int64_t kBlockBytes = T == DType::F8_E4M3 ? 1
                                : T == DType::F32   ? 4
                                : T == DType::F16 || T == DType::BF16 ? 2
                                : T == DType::Q8_0  ? 34
                                : T == DType::Q4_0  ? 18
                                : T == DType::MXFP4 ? 17
                                : T == DType::Q4_K  ? 144
                                : T == DType::Q5_K  ? 176
                                : T == DType::Q6_K  ? 210
                                                    : 292;  // Q8_K

// Values [k0, k0 + n) of row r as floats; k0 and n are whole blocks of the type.
template <class V, DType T>
void decode(const WeightMatrix& w, int64_t r, int64_t k0, int64_t n, float* out) {
  using F = typename V::F;
  using I = typename V::I;
  constexpr int L = V::kLanes;
  const uint8_t* row = w.row(r);
  if constexpr (T == DType::F32) {
    std::memcpy(out, row + 4 * k0, static_cast<size_t>(n) * 4);
  } else if constexpr (T == DType::F16 || T == DType::BF16) {
    int64_t i = 0;
    for (; i + L <= n; i += L) V::storeu(out + i, V::template load_half<T>(row + 2 * (k0 + i)));
    for (; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, row + 2 * (k0 + i), 2);
      if constexpr (T == DType::F16) {
        out[i] = _cvtsh_ss(h);
      } else {
        const uint32_t u = static_cast<uint32_t>(h) << 16;
        std::memcpy(out + i, &u, 4);
      }
    }
  } else if constexpr (T == DType::F8_E4M3) {
    const float* scales = w.block_scale + (r / kFp8Block) * w.scale_cols;
    int64_t i = 0;
    for (; i + L <= n; i += L) {
      const int64_t c = k0 + i;  // L divides the 128-column scale block
      V::storeu(out + i, V::mul(V::e4m3(V::load_u8(row + c)), V::set1(scales[c / kFp8Block])));
    }
    if (i < n) {
      uint8_t tmp[L] = {};
      alignas(64) float f[L];
      std::memcpy(tmp, row + k0 + i, static_cast<size_t>(n - i));
      V::storeu(f, V::mul(V::e4m3(V::load_u8(tmp)), V::set1(scales[(k0 + i) / kFp8Block])));
      std::memcpy(out + i, f, static_cast<size_t>(n - i) * 4);
    }
  } else if constexpr (T == DType::Q8_0) {
    const uint8_t* x = row + (k0 / 32) * 34;
    for (int64_t b = 0; b < n / 32; ++b, x += 34, out += 32) {
      const F d = V::set1(f16_scalar(x));
      for (int j = 0; j < 32; j += L) V::storeu(out + j, V::mul(V::cvt(V::load_i8(x + 2 + j)), d));
    }
  } else if constexpr (T == DType::Q4_0) {
    const uint8_t* x = row + (k0 / 32) * 18;
    const I low = V::set1i(15), eight = V::set1i(8);
    for (int64_t b = 0; b < n / 32; ++b, x += 18, out += 32) {
      const F d = V::set1(f16_scalar(x));
      for (int j = 0; j < 16; j += L) {
        const I q = V::load_u8(x + 2 + j);
        V::storeu(out + j, V::mul(V::cvt(V::sub(V::and_(q, low), eight)), d));
        V::storeu(out + 16 + j, V::mul(V::cvt(V::sub(V::srli(q, 4), eight)), d));
      }
    }
  } else if constexpr (T == DType::MXFP4) {
    const uint8_t* x = row + (k0 / 32) * 17;
    const __m128i table = mxfp4_table(0);
    for (int64_t b = 0; b < n / 32; ++b, x += 17, out += 32) {
      const F d = V::set1(mxfp4_scale_of(x[0]));
      alignas(16) int8_t q[32];
      __m128i lo, hi;
      mxfp4_codes(x + 1, table, lo, hi);
      _mm_store_si128(reinterpret_cast<__m128i*>(q), lo);
      _mm_store_si128(reinterpret_cast<__m128i*>(q + 16), hi);
      // kvalue * 2^(e - 128): the reference's one exact product.
      for (int j = 0; j < 32; j += L) V::storeu(out + j, V::mul(V::cvt(V::load_i8(reinterpret_cast<uint8_t*>(q + j))), d));
    }
  } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    constexpr bool k5 = T == DType::Q5_K;
    constexpr int kBytes = k5 ? 176 : 144;
    const uint8_t* x = row + (k0 / 256) * kBytes;
    const I low = V::set1i(15), one = V::set1i(1);
    for (int64_t b = 0; b < n / 256; ++b, x += kBytes, out += 256) {
      const float d = f16_scalar(x), dmin = f16_scalar(x + 2);
      const uint8_t* qh = x + 16;
      const uint8_t* q = x + (k5 ? 48 : 16);
      for (int c = 0; c < 4; ++c, q += 32) {
        int sc1, m1, sc2, m2;
        scale_min_k4(2 * c, x + 4, sc1, m1);
        scale_min_k4(2 * c + 1, x + 4, sc2, m2);
        const F d1 = V::set1(d * static_cast<float>(sc1)), n1 = V::set1(dmin * static_cast<float>(m1));
        const F d2 = V::set1(d * static_cast<float>(sc2)), n2 = V::set1(dmin * static_cast<float>(m2));
        for (int j = 0; j < 32; j += L) {
          const I v = V::load_u8(q + j);
          I lo = V::and_(v, low), hi = V::srli(v, 4);
          if constexpr (k5) {
            const I hb = V::load_u8(qh + j);
            lo = V::add(lo, V::slli(V::and_(V::srli(hb, 2 * c), one), 4));
            hi = V::add(hi, V::slli(V::and_(V::srli(hb, 2 * c + 1), one), 4));
          }
          // d*sc*q is exact (at most 22 significant bits), so FMA rounds like mul-then-sub.
          V::storeu(out + 64 * c + j, V::fmsub(d1, V::cvt(lo), n1));
          V::storeu(out + 64 * c + 32 + j, V::fmsub(d2, V::cvt(hi), n2));
        }
      }
    }
  } else if constexpr (T == DType::Q6_K) {
    const uint8_t* x = row + (k0 / 256) * 210;
    const I low = V::set1i(15), three = V::set1i(3), off = V::set1i(32);
    for (int64_t b = 0; b < n / 256; ++b, x += 210) {
      const float d = f16_scalar(x + 208);
      const uint8_t* ql = x;
      const uint8_t* qh = x + 128;
      const auto* sc = reinterpret_cast<const int8_t*>(x + 192);
      for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, out += 128) {
        for (int l = 0; l < 32; l += L) {
          const I a = V::load_u8(ql + l), bb = V::load_u8(ql + 32 + l), hh = V::load_u8(qh + l);
          I q[4];
          q[0] = V::or_(V::and_(a, low), V::slli(V::and_(hh, three), 4));
          q[1] = V::or_(V::and_(bb, low), V::slli(V::and_(V::srli(hh, 2), three), 4));
          q[2] = V::or_(V::srli(a, 4), V::slli(V::and_(V::srli(hh, 4), three), 4));
          q[3] = V::or_(V::srli(bb, 4), V::slli(V::and_(V::srli(hh, 6), three), 4));
          for (int g = 0; g < 4; ++g) {
            // (d * scale) first, then times q: the reference's order and rounding.
            const F ds = V::set1(d * static_cast<float>(sc[l / 16 + 2 * g]));
            V::storeu(out + 32 * g + l, V::mul(ds, V::cvt(V::sub(q[g], off))));
          }
        }
      }
    }
  } else {
    // Types without a vector decoder (Q8_K) take the reference one.
    const int64_t be = traits(T).block_elems, bb = traits(T).block_bytes;
    dequantize_row(T, row + (k0 / be) * bb, out, n);
  }
}

// ---- Decode: rows dotted with up to 4 tokens. ----

// Rows taken at a time. One far-prefetched stream per thread reads fastest (measured with
// bench_kernels --chain, one thread: Q8_0 27 GB/s for one row against 15-21 for four, BF16 33
// against 21); the 4-bit types decode through register tables built per row and sub-block
// (lut16), whose activation loads four rows share, and there four rows are faster (18 against 10).
// With several tokens the product is bound by compute and by reading the activations (NT x cols
// floats, more than L1 holds): four rows share each activation load (measured with bench_kernels
// --sequences 8, one thread: Q8_0 and BF16 1.8-2x faster than one row at a time).
template <DType T, int NT>
constexpr int kGemvRows = NT > 1 || T == DType::Q4_0 || T == DType::MXFP4 || T == DType::Q4_K || T == DType::Q5_K ? 4 : 1;
// How far ahead of the chunk in use each row is prefetched.
constexpr int64_t kAheadBytes = 8192;

// acc[r][t] += W_r[c0 + i] * x_t[c0 + i] for i in [0, n); load_w(r, i, m) gives the first m
// (<= kLanes) weights of row r at offset i as floats.
template <class V, int R, int NT, class LoadW>
void dot_rows(LoadW load_w, int64_t n, const float* const* xs, int64_t c0, typename V::F (&acc)[R][NT]) {
  constexpr int L = V::kLanes;
  typename V::F xv[NT];
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    for (int t = 0; t < NT; ++t) xv[t] = V::loadu(xs[t] + c0 + i);
    for (int r = 0; r < R; ++r) {
      const typename V::F wv = load_w(r, i, L);
      for (int t = 0; t < NT; ++t) acc[r][t] = V::fmadd(wv, xv[t], acc[r][t]);
    }
  }
  if (i < n) {
    const int64_t m = n - i;
    for (int t = 0; t < NT; ++t) xv[t] = V::load_partial(xs[t] + c0 + i, m);
    for (int r = 0; r < R; ++r) {
      const typename V::F wv = load_w(r, i, m);
      for (int t = 0; t < NT; ++t) acc[r][t] = V::fmadd(wv, xv[t], acc[r][t]);
    }
  }
}

// Block types whose decode step is fused into the dot product (below).
template <DType T>
constexpr bool kFused = T == DType::Q8_0 || T == DType::Q4_0 || T == DType::MXFP4 || T == DType::Q4_K ||
                        T == DType::Q5_K || T == DType::Q6_K;

// acc[r][t] += W_r . x_t over columns [k0, k0 + kc) (whole blocks), reading the blocks in place:
// integer codes are converted and multiplied by the activations, and each block's scale (and
// minimum) is applied once to that partial sum, as scale * sum(q * x) - min * sum(x). The one
// product of a scale and a code is the one the reference decoder rounds, so a lone nonzero
// activation still yields the decoded weight exactly.
template <class V, DType T, int R, int NT>
void fused_chunk(const uint8_t* const* rows, int64_t k0, int64_t kc, const float* const* xs,
                 typename V::F (&acc)[R][NT]) {
  using F = typename V::F;
  using I = typename V::I;
  constexpr int L = V::kLanes;
  if constexpr (T == DType::Q8_0 || T == DType::Q4_0 || T == DType::MXFP4) {
    // MXFP4's scale 2^(e - 128) is a power of two: scaling the partial sum instead of each
    // weight gives the same bits.
    constexpr int kBytes = static_cast<int>(kBlockBytes<T>);
    constexpr bool mx = T == DType::MXFP4;
    const auto scale = [](const uint8_t* blk) { return mx ? mxfp4_scale_of(blk[0]) : f16_scalar(blk); };
    for (int64_t b = 0; b < kc / 32; ++b) {
      const int64_t c = k0 + 32 * b;
      F x[NT][32 / L];
      for (int t = 0; t < NT; ++t)
        for (int j = 0; j < 32 / L; ++j) x[t][j] = V::loadu(xs[t] + c + j * L);
      for (int r = 0; r < R; ++r) {
        const uint8_t* blk = rows[r] + (k0 / 32 + b) * kBytes;
        F q[32 / L];
        if constexpr (T == DType::Q8_0) {
          for (int j = 0; j < 32 / L; ++j) q[j] = V::cvt(V::load_i8(blk + 2 + j * L));
        } else if constexpr (V::kLut16) {
          // The 16 possible weights (Q4_0: (q - 8) * d, MXFP4: kvalue * d) in a register:
          // decoding is a lookup.
          const F codes = mx ? V::loadu(kMxfp4Floats) : V::sub(V::iota(), V::set1(8.0f));
          const F table = V::mul(codes, V::set1(scale(blk)));
          const I v = V::load_u8(blk + (mx ? 1 : 2));
          const F lo = V::lut16(v, table), hi = V::lut16(V::srli(v, 4), table);
          for (int t = 0; t < NT; ++t) acc[r][t] = V::fmadd(hi, x[t][1], V::fmadd(lo, x[t][0], acc[r][t]));
          continue;
        } else if constexpr (mx) {
          alignas(16) int8_t codes[32];
          __m128i lo, hi;
          mxfp4_codes(blk + 1, mxfp4_table(0), lo, hi);
          _mm_store_si128(reinterpret_cast<__m128i*>(codes), lo);
          _mm_store_si128(reinterpret_cast<__m128i*>(codes + 16), hi);
          for (int j = 0; j < 32 / L; ++j) q[j] = V::cvt(V::load_i8(reinterpret_cast<uint8_t*>(codes + j * L)));
        } else {
          for (int j = 0; j < 16 / L; ++j) {
            const I v = V::load_u8(blk + 2 + j * L);
            q[j] = V::cvt(V::sub(V::and_(v, V::set1i(15)), V::set1i(8)));
            q[16 / L + j] = V::cvt(V::sub(V::srli(v, 4), V::set1i(8)));
          }
        }
        const F d = V::set1(scale(blk));
        for (int t = 0; t < NT; ++t) {
          F s = V::mul(q[0], x[t][0]);
          for (int j = 1; j < 32 / L; ++j) s = V::fmadd(q[j], x[t][j], s);
          acc[r][t] = V::fmadd(s, d, acc[r][t]);
        }
      }
    }
  } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
    constexpr bool k5 = T == DType::Q5_K;
    constexpr int kBytes = k5 ? 176 : 144;
    const int64_t sb = k0 / 256;  // chunks are whole super-blocks
    // Per row, the 8 scales and minimums as floats, converted together (int-to-float
    // conversions one at a time cost more than the products they feed).
    alignas(64) float dsc[R][8], dmn[R][8];
    for (int r = 0; r < R; ++r) {
      __m256 s, m;
      scales_k4(rows[r] + sb * kBytes, s, m);
      _mm256_store_ps(dsc[r], s);
      _mm256_store_ps(dmn[r], m);
    }
    // Sub-blocks 2c and 2c + 1 of every token's activations.
    const auto load_pair = [&](int c, F (&xv)[NT][2][32 / L]) {
      for (int t = 0; t < NT; ++t)
        for (int h = 0; h < 2; ++h)
          for (int j = 0; j < 32 / L; ++j) xv[t][h][j] = V::loadu(xs[t] + k0 + 64 * c + 32 * h + j * L);
    };
    if constexpr (V::kLut16) {
      // Each sub-block's 16 (Q5_K: 32) possible weights d*sc*q - dmin*m are computed once into
      // table registers (the reference's exact floats); decoding is then one lookup per vector.
      const F iota = V::iota(), sixteen = V::set1(16.0f);
      for (int c = 0; c < 4; ++c) {
        F xv[NT][2][32 / L];
        load_pair(c, xv);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const uint8_t* x = rows[r] + sb * kBytes;
          const uint8_t* q = x + (k5 ? 48 : 16) + 32 * c;
          const F d1 = V::set1(dsc[r][2 * c]), n1 = V::set1(dmn[r][2 * c]);
          const F d2 = V::set1(dsc[r][2 * c + 1]), n2 = V::set1(dmn[r][2 * c + 1]);
          const F t1 = V::fmsub(d1, iota, n1), t2 = V::fmsub(d2, iota, n2);
          for (int j = 0; j < 32 / L; ++j) {
            const I v = V::load_u8(q + j * L);
            F lo, hi;
            if constexpr (k5) {
              // Index q + 16 * (high bit) into 32 entries; the second table holds q = 16..31.
              const I hb = V::load_u8(x + 16 + j * L);
              const I i1 = V::or_(V::and_(v, V::set1i(15)), V::slli(V::and_(V::srli(hb, 2 * c), V::set1i(1)), 4));
              const I i2 = V::or_(V::srli(v, 4), V::slli(V::and_(V::srli(hb, 2 * c + 1), V::set1i(1)), 4));
              lo = V::lut32(i1, t1, V::fmsub(d1, V::add(iota, sixteen), n1));
              hi = V::lut32(i2, t2, V::fmsub(d2, V::add(iota, sixteen), n2));
            } else {
              lo = V::lut16(v, t1);
              hi = V::lut16(V::srli(v, 4), t2);
            }
            for (int t = 0; t < NT; ++t) {
              acc[r][t] = V::fmadd(lo, xv[t][0][j], acc[r][t]);
              acc[r][t] = V::fmadd(hi, xv[t][1][j], acc[r][t]);
            }
          }
        }
      }
      return;
    }
    // Per token, partial sums of x over each 32-value sub-block (for the minimums).
    F xsum[NT][8];
    for (int t = 0; t < NT; ++t)
      for (int j = 0; j < 8; ++j) {
        F v = V::loadu(xs[t] + k0 + 32 * j);
        for (int l = L; l < 32; l += L) v = V::add(v, V::loadu(xs[t] + k0 + 32 * j + l));
        xsum[t][j] = v;
      }
    for (int c = 0; c < 4; ++c) {
      F xv[NT][2][32 / L];
      load_pair(c, xv);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const uint8_t* x = rows[r] + sb * kBytes;
        const uint8_t* q = x + (k5 ? 48 : 16) + 32 * c;
        F lo[32 / L], hi[32 / L];
        for (int j = 0; j < 32 / L; ++j) {
          const I v = V::load_u8(q + j * L);
          I a = V::and_(v, V::set1i(15)), b = V::srli(v, 4);
          if constexpr (k5) {
            const I hb = V::load_u8(x + 16 + j * L);
            a = V::add(a, V::slli(V::and_(V::srli(hb, 2 * c), V::set1i(1)), 4));
            b = V::add(b, V::slli(V::and_(V::srli(hb, 2 * c + 1), V::set1i(1)), 4));
          }
          lo[j] = V::cvt(a);
          hi[j] = V::cvt(b);
        }
        const F d1 = V::set1(dsc[r][2 * c]), n1 = V::set1(dmn[r][2 * c]);
        const F d2 = V::set1(dsc[r][2 * c + 1]), n2 = V::set1(dmn[r][2 * c + 1]);
        for (int t = 0; t < NT; ++t) {
          F s1 = V::mul(lo[0], xv[t][0][0]), s2 = V::mul(hi[0], xv[t][1][0]);
          for (int j = 1; j < 32 / L; ++j) {
            s1 = V::fmadd(lo[j], xv[t][0][j], s1);
            s2 = V::fmadd(hi[j], xv[t][1][j], s2);
          }
          F a = V::fmadd(s1, d1, acc[r][t]);
          a = V::fnmadd(n1, xsum[t][2 * c], a);
          a = V::fmadd(s2, d2, a);
          acc[r][t] = V::fnmadd(n2, xsum[t][2 * c + 1], a);
        }
      }
    }
  } else if constexpr (T == DType::Q6_K) {
    const int64_t sb = k0 / 256;
    alignas(64) float dsc[R][16];   // (d * scale) first, then times q: the reference's rounding
    alignas(64) int8_t qv[R][256];  // each row's 256 values as signed bytes q - 32
    for (int r = 0; r < R; ++r) decode_q6_k(rows[r] + sb * 210, dsc[r], qv[r]);
    // Each activation vector is loaded once for all R rows.
    for (int e = 0; e < 256; e += L) {
      F xv[NT];
      for (int t = 0; t < NT; ++t) xv[t] = V::loadu(xs[t] + k0 + e);
      for (int r = 0; r < R; ++r) {
        const F wv = V::mul(V::set1(dsc[r][e / 16]), V::cvt(V::load_i8(reinterpret_cast<const uint8_t*>(qv[r] + e))));
        for (int t = 0; t < NT; ++t) acc[r][t] = V::fmadd(wv, xv[t], acc[r][t]);
      }
    }
  }
}

// Rows [r, r + R) for NT tokens. Plain types are read in place; block types are decoded a chunk
// at a time into buf (R x kKC floats, in L1).
template <class V, DType T, int R, int NT>
void gemv_block(const WeightMatrix& w, const float* const* xs, int64_t r, float* buf, float* y) {
  typename V::F acc[R][NT];
  for (auto& row : acc)
    for (auto& a : row) a = V::zero();
  const uint8_t* rows[R];
  for (int i = 0; i < R; ++i) rows[i] = w.row(r + i);
  for (int64_t k0 = 0; k0 < w.cols; k0 += kKC) {
    const int64_t kc = min_i64(kKC, w.cols - k0);
    {
      // Each row's stream is requested far ahead: decoding alone does not keep enough loads in
      // flight to read at memory speed (see kAheadBytes).
      constexpr size_t chunk_bytes = static_cast<size_t>(kKC / kBlockElems<T> * kBlockBytes<T>);
      for (int i = 0; i < R; ++i) {
        const char* next = reinterpret_cast<const char*>(rows[i]) + (k0 / kKC) * chunk_bytes + kAheadBytes;
        for (size_t b = 0; b < chunk_bytes; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
      }
    }
    if constexpr (T == DType::F32 || T == DType::F16 || T == DType::BF16) {
      constexpr int64_t kBytes = T == DType::F32 ? 4 : 2;
      dot_rows<V, R, NT>(
          [&](int r_, int64_t i, int64_t m) {
            const uint8_t* p = rows[r_] + kBytes * (k0 + i);
            if (m == V::kLanes) {
              if constexpr (T == DType::F32) return V::loadu(reinterpret_cast<const float*>(p));
              else return V::template load_half<T>(p);
            }
            if constexpr (T == DType::F32) {
              return V::load_partial(reinterpret_cast<const float*>(p), m);
            } else {
              alignas(64) float tail[V::kLanes];
              decode<V, T>(w, r + r_, k0 + i, m, tail);
              return V::load_partial(tail, m);
            }
          },
          kc, xs, k0, acc);
    } else {
      if constexpr (kFused<T>) {
        fused_chunk<V, T, R, NT>(rows, k0, kc, xs, acc);
      } else {
        for (int i = 0; i < R; ++i) decode<V, T>(w, r + i, k0, kc, buf + i * kKC);
        dot_rows<V, R, NT>([&](int r_, int64_t i, int64_t m) { return V::load_partial(buf + r_ * kKC + i, m); },
                           kc, xs, k0, acc);
      }
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < NT; ++t) y[t * w.rows + r + i] = V::reduce_add(acc[i][t]);
}

template <class V, DType T, int NT>
void gemv_rows(const WeightMatrix& w, const float* x, int64_t r0, int64_t r1, float* y) {
  const float* xs[NT];
  for (int t = 0; t < NT; ++t) xs[t] = x + t * w.cols;
  constexpr int R = kGemvRows<T, NT>;
  alignas(64) float buf[R * kKC];
  int64_t r = r0;
  for (; r + R <= r1; r += R) gemv_block<V, T, R, NT>(w, xs, r, buf, y);
  for (; r < r1; ++r) gemv_block<V, T, 1, NT>(w, xs, r, buf, y);
}

template <class V, DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  switch (a.n_tokens) {
    case 1: return gemv_rows<V, T, 1>(w, a.x, r0, r1, y);
    case 2: return gemv_rows<V, T, 2>(w, a.x, r0, r1, y);
    case 3: return gemv_rows<V, T, 3>(w, a.x, r0, r1, y);
    default:
      for (int64_t t = 0; t + 4 <= a.n_tokens; t += 4) gemv_rows<V, T, 4>(w, a.x + t * w.cols, r0, r1, y + t * w.rows);
      if (const int64_t rest = a.n_tokens % 4; rest > 0) {
        Acts tail = a;
        tail.n_tokens = rest;
        tail.x = a.x + (a.n_tokens - rest) * w.cols;
        gemv<V, T>(w, tail, r0, r1, y + (a.n_tokens - rest) * w.rows);
      }
  }
}

// ---- Prefill: packed tiles of 2 * kLanes rows times kTokens-token register blocks. ----

// pack[k * MR + i] = W[rb + i, k0 + k]; rows past nr are zero. rows: MR x kKC scratch.
template <class V, DType T>
void pack_tile(const WeightMatrix& w, int64_t rb, int64_t nr, int64_t k0, int64_t kc, float* rows, float* pack) {
  constexpr int L = V::kLanes, MR = 2 * L;
  const int64_t kcl = (kc + L - 1) / L * L;
  for (int64_t i = 0; i < MR; ++i) {
    float* dst = rows + i * kKC;
    if (i < nr) decode<V, T>(w, rb + i, k0, kc, dst);
    for (int64_t k = i < nr ? kc : 0; k < kcl; ++k) dst[k] = 0.0f;
  }
  for (int64_t kb = 0; kb < kcl; kb += L)
    for (int h = 0; h < 2; ++h) V::transpose(rows + h * L * kKC + kb, kKC, pack + kb * MR + h * L, MR);
}

// y[t * ldy + i] (+)= sum_k pack[k * MR + i] * x[t * ldx + k], NT tokens, nr valid rows.
template <class V, int NT>
void tile_kernel(const float* pack, int64_t kc, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t nr,
                 bool first) {
  using F = typename V::F;
  constexpr int L = V::kLanes, MR = 2 * L;
  F acc[NT][2];
  for (int t = 0; t < NT; ++t) acc[t][0] = acc[t][1] = V::zero();
  for (int64_t k = 0; k < kc; ++k) {
    const F a0 = V::load(pack + k * MR), a1 = V::load(pack + k * MR + L);
    for (int t = 0; t < NT; ++t) {
      const F b = V::set1(x[t * ldx + k]);
      acc[t][0] = V::fmadd(a0, b, acc[t][0]);
      acc[t][1] = V::fmadd(a1, b, acc[t][1]);
    }
  }
  const int64_t n0 = min_i64(nr, L), n1 = nr > L ? nr - L : 0;
  for (int t = 0; t < NT; ++t) {
    float* yt = y + t * ldy;
    if (!first) {
      acc[t][0] = V::add(acc[t][0], V::load_partial(yt, n0));
      acc[t][1] = V::add(acc[t][1], V::load_partial(yt + L, n1));
    }
    V::store_partial(yt, acc[t][0], n0);
    V::store_partial(yt + L, acc[t][1], n1);
  }
}

template <class V, int NT>
void tile_kernel_n(int64_t nt, const float* pack, int64_t kc, const float* x, int64_t ldx, float* y, int64_t ldy,
                   int64_t nr, bool first) {
  if constexpr (NT > 1) {
    if (nt < NT) return tile_kernel_n<V, NT - 1>(nt, pack, kc, x, ldx, y, ldy, nr, first);
  }
  tile_kernel<V, NT>(pack, kc, x, ldx, y, ldy, nr, first);
}

// Rows [r0, r1) for all tokens. Column chunks outermost, so each thread's chunk of every
// token (kTokens x 256 floats per register block) is reused from cache by all its row tiles.
template <class V, DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  constexpr int MR = 2 * V::kLanes;
  alignas(64) float rows[MR * kKC];
  alignas(64) float pack[kKC * MR];
  for (int64_t k0 = 0; k0 < w.cols; k0 += kKC) {
    const int64_t kc = min_i64(kKC, w.cols - k0);
    for (int64_t rb = r0; rb < r1; rb += MR) {
      const int64_t nr = min_i64(MR, r1 - rb);
      pack_tile<V, T>(w, rb, nr, k0, kc, rows, pack);
      for (int64_t t0 = 0; t0 < a.n_tokens; t0 += V::kTokens)
        tile_kernel_n<V, V::kTokens>(min_i64(V::kTokens, a.n_tokens - t0), pack, kc, a.x + t0 * w.cols + k0, w.cols,
                                     y + t0 * w.rows + rb, w.rows, nr, k0 == 0);
    }
  }
}

}  // namespace fk

}  // namespace
}  // namespace fare

// The exact entry points an instruction-set file declares in kernels_x86.h (gemv, gemm, attend),
// over its vector type V, and their instances for every weight type. Used inside the file's
// namespace (fare::avx2, fare::avx512) after V is defined; attend needs attention_kernels.h.
#define FARE_FLOAT_KERNEL_ENTRY_POINTS(V)                                                                           \
  template <DType T>                                                                                                \
  void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {                               \
    fk::gemv<V, T>(w, a, r0, r1, y);                                                                                \
  }                                                                                                                 \
  template <DType T>                                                                                                \
  void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {                               \
    static_assert(2 * V::kLanes == kRowTile);                                                                       \
    fk::gemm<V, T>(w, a, r0, r1, y);                                                                                \
  }                                                                                                                 \
  void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,             \
              const KvRows& kv, float* out, float* scratch) {                                                       \
    fa::attend<V>(s, q, t0, t1, g, pos0, kv, out, scratch);                                                         \
  }                                                                                                                 \
  void swiglu(const float* gate, const float* up, int64_t n, float* out) { sw::swiglu<V>(gate, up, n, out); }      \
  FARE_FLOAT_KERNEL_INSTANCE(DType::F32)                                                                            \
  FARE_FLOAT_KERNEL_INSTANCE(DType::F16)                                                                            \
  FARE_FLOAT_KERNEL_INSTANCE(DType::BF16)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::F8_E4M3)                                                                        \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q8_0)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q4_0)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q4_K)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q5_K)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q6_K)                                                                           \
  FARE_FLOAT_KERNEL_INSTANCE(DType::Q8_K)                                                                            \
  FARE_FLOAT_KERNEL_INSTANCE(DType::MXFP4)

#define FARE_FLOAT_KERNEL_INSTANCE(T)                                                  \
  template void gemv<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*); \
  template void gemm<T>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
