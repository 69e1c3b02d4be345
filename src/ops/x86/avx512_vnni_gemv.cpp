// AVX-512 VNNI decode for integer weights: a few tokens' activations, quantized to int8 blocks of
// 32 (ActFormat::Q8), dotted with weight rows streamed once from memory.
//
// With two cores, decoding weights to float costs more time than reading them: the float
// kernels reach about two thirds of the read bandwidth on Q8_0 and less on the K-quants. Here a
// row is read 64 columns at a time as 64 unsigned byte codes (Q8_0: q + 128; Q4_K: the nibbles;
// Q6_K: the 6-bit codes; MXFP4: its values + 16, from one byte shuffle of two blocks' nibbles)
// in one register, one vpdpbusd sums their products with the activation codes into 16 lanes of
// 4 columns each, and one FMA scales every lane by its weight scale times its activation scale
// (MXFP4: their products taken once per 256 columns). The integer sum of each lane starts from its share of its group's
// Acts::bias, which removes the code offset exactly. Q4_K (offset 0) takes its scales per
// super-block instead, two super-blocks at a time: their 16 block scales times the 16 activation
// block scales at once, and their per-block minimums one 16-lane FMA against the activation block
// sums; its activations come with their blocks in the order of the nibbles (ActFormat::Q8_K4), so
// that the codes need no shuffle between the split and vpdpbusd (+7-10 % on one core).
#include <immintrin.h>

#include <cstring>

#include "ops/cpu_features.h"
#include "ops/x86/avx512_common.h"
#include "ops/x86/k_quant_scales.h"
#include "ops/x86/mxfp4_codes.h"
#include "ops/x86/kernels_x86.h"

namespace fare::avx512_vnni {

namespace {

// One row at a time, each prefetched far ahead (CpuFeatures::decode_prefetch_bytes): a single
// stream per thread kept one core of a Zen 5 at 33 GB/s on Q8_0, against 20-25 GB/s for four rows
// at once (several streams with the same distance overflow the L1). The activations are re-read
// for every row, from L1.
constexpr int kRows = 1;

// Columns per step of the row walk, and their bytes. Q4_K takes two super-blocks a step, whose
// scales unpack together (scales_k4_x2): +5 % on one core, where the unpacking one super-block at
// a time had been up to a third of the kernel's time.
template <DType T>
constexpr int64_t kChunkCols = T == DType::Q4_K ? 512 : 256;
template <DType T>
constexpr int64_t kChunkBytes = T == DType::Q8_0    ? 8 * 34
                                : T == DType::MXFP4 ? 8 * 17
                                : T == DType::Q4_K  ? 2 * 144
                                                    : 210;

inline __m512 half_pair(const uint8_t* a, const uint8_t* b) {
  uint16_t ha, hb;
  std::memcpy(&ha, a, 2);
  std::memcpy(&hb, b, 2);
  const __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(static_cast<short>(ha))),
                                            _mm_set1_epi16(static_cast<short>(hb)), 1);
  return _mm512_cvtph_ps(h);
}

// Activations of the tokens at column c: codes, per-lane scale and per-lane bias.
template <int NT>
struct Step {
  __m512i x[NT];
  __m512 scale[NT];
  __m512i bias[NT];
};

template <int NT>
struct TokenPtrs {
  const int8_t* q[NT];
  const float* qsum[NT];       // Acts::qsum, per block of 32
  const float* blk_scale[NT];  // Acts::scale, per block of 32
  const int32_t* bias[NT];     // Acts::bias, per group (Q8_0: 32 columns, Q6_K: 16)
};

// The activation scales of a chunk's blocks of 32 and the biases of its groups, loaded once per
// chunk (256 columns); each 64-column step spreads them over its 16 lanes of 4 columns with a
// permute. Per-lane copies of both (8 bytes per 4 columns and token, beside 1 byte per column of
// codes) had pushed a 12288-column row's activations out of L1 beside the weight stream: one core
// decoded Q8_0 at 30-32 GB/s on those rows against 39 on 4096-column ones.
template <int NT>
struct ChunkActs {
  __m512 scale[NT];  // lane b: block b of the chunk
  __m512i bias[NT];  // lane g: group g of the chunk, divided by its lanes (group / 4)
};

template <int NT>
inline void load_chunk(const TokenPtrs<NT>& tp, int64_t k0, int64_t kc, int group, ChunkActs<NT>& ca) {
  const __mmask16 blocks = static_cast<__mmask16>((1u << (kc / 32)) - 1);
  const __mmask16 groups = static_cast<__mmask16>((1u << (kc / group)) - 1);
  const unsigned shift = group == 32 ? 3 : 2;  // bias / (group / 4): exact, see matmul.cpp
  for (int t = 0; t < NT; ++t) {
    ca.scale[t] = _mm512_maskz_loadu_ps(blocks, tp.blk_scale[t] + k0 / 32);
    ca.bias[t] = _mm512_srai_epi32(_mm512_maskz_loadu_epi32(groups, tp.bias[t] + k0 / group), shift);
  }
}

// Step m (columns k0 + 64m ..) of a chunk: lane l holds columns 4l .. 4l + 3 of the step. `half`:
// the last 32 columns of a row of odd block count, the upper lanes zero. kScales: with the
// per-lane activation scales (MXFP4 takes them per chunk instead).
template <int NT, bool kScales = true>
inline void load_step(const TokenPtrs<NT>& tp, const ChunkActs<NT>& ca, int64_t k0, int m, int group, bool half,
                      Step<NT>& s) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i blk = _mm512_add_epi32(_mm512_srli_epi32(lane, 3), _mm512_set1_epi32(2 * m));
  const __m512i grp = group == 32 ? blk : _mm512_add_epi32(_mm512_srli_epi32(lane, 2), _mm512_set1_epi32(4 * m));
  const __mmask16 lanes = half ? 0x00ff : 0xffff;
  const int64_t c = k0 + 64 * m;
  for (int t = 0; t < NT; ++t) {
    s.x[t] = half ? _mm512_maskz_loadu_epi8(0xffffffffull, tp.q[t] + c) : _mm512_loadu_si512(tp.q[t] + c);
    if constexpr (kScales) s.scale[t] = _mm512_maskz_permutexvar_ps(lanes, blk, ca.scale[t]);
    s.bias[t] = _mm512_maskz_permutexvar_epi32(lanes, grp, ca.bias[t]);
  }
}

// acc[t] += codes . x_t, lane by lane, times weight scale x activation scale.
template <int NT>
inline void madd(__m512i codes, __m512 wscale, const Step<NT>& s, __m512 (&acc)[NT]) {
  for (int t = 0; t < NT; ++t) {
    const __m512i isum = _mm512_dpbusd_epi32(s.bias[t], codes, s.x[t]);
    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(wscale, s.scale[t]), acc[t]);
  }
}

// MXFP4 blocks b0 and b1 (64 columns) as unsigned codes kvalue + 16, the offset Acts::bias
// removes: each block's 16 bytes go to two 128-bit lanes (broadcast loads), the second of each
// pair shifted by 4 bits, and one byte shuffle of the table gives values 0-15 and 16-31 of each
// block in order. low: 15 in every byte.
inline __m512i mxfp4_pair_codes(const uint8_t* b0, const uint8_t* b1, __m512i table, __m512i low) {
  const auto qs = [](const uint8_t* b) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 1)); };
  const __m512i v = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(qs(b0)), 0xff00, qs(b1));
  constexpr int64_t k4 = 0x0004000400040004;  // a shift of 4 for every 16-bit word
  const __m512i nibbles = _mm512_and_si512(_mm512_srlv_epi16(v, _mm512_set_epi64(k4, k4, 0, 0, k4, k4, 0, 0)), low);
  return _mm512_shuffle_epi8(table, nibbles);
}

// The scales 2^(e - 128) of n (<= 8) MXFP4 blocks from blk on, in lanes 0 .. n - 1 (the upper
// lanes hold 2^-128, which meets zero activation scales), the float's bits built as mxfp4_scale
// builds them, subnormals for e < 2 included. The exponent bytes (17 apart) are read one by one:
// a gather was no faster here, and is slow where the microcode mitigates Gather Data Sampling.
inline __m512 mxfp4_chunk_scales(const uint8_t* blk, int64_t n) {
  const __m256i one = _mm256_set1_epi32(1);
  const auto at = [&](int i) { return i < n ? static_cast<int>(blk[17 * i]) : 0; };
  const __m256i e = n == 8 ? _mm256_setr_epi32(blk[0], blk[17], blk[34], blk[51], blk[68], blk[85], blk[102], blk[119])
                           : _mm256_setr_epi32(at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7));
  const __m256i normal = _mm256_slli_epi32(_mm256_sub_epi32(e, one), 23);
  const __m256i subnormal = _mm256_sllv_epi32(_mm256_set1_epi32(0x00200000), e);
  const __m256i bits = _mm256_mask_blend_epi32(_mm256_cmpgt_epi32_mask(e, one), subnormal, normal);
  return _mm512_zextps256_ps512(_mm256_castsi256_ps(bits));
}

// Columns [k0, k0 + kc) of R rows (kc: whole blocks; Q4_K: one or two super-blocks, Q6_K: one).
template <DType T, int R, int NT>
inline void chunk(const uint8_t* const* rows, const TokenPtrs<NT>& tp, int64_t k0, int64_t kc, __m512 (&acc)[R][NT],
                  __m512 (&accm)[R][NT]) {
  Step<NT> s;
  if constexpr (T == DType::Q8_0) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    ChunkActs<NT> acts;
    load_chunk<NT>(tp, k0, kc, 32, acts);
    int m = 0;
    for (; 64 * m + 64 <= kc; ++m) {
      load_step<NT>(tp, acts, k0, m, 32, false, s);
      for (int r = 0; r < R; ++r) {
        const uint8_t* blk = rows[r] + ((k0 + 64 * m) / 32) * 34;
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 36));
        const __m512i codes = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
        madd<NT>(codes, half_pair(blk, blk + 34), s, acc[r]);
      }
    }
    if (64 * m < kc) {  // one block left
      load_step<NT>(tp, acts, k0, m, 32, true, s);
      for (int r = 0; r < R; ++r) {
        const uint8_t* blk = rows[r] + ((k0 + 64 * m) / 32) * 34;
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
        const __m512i codes = _mm512_xor_si512(_mm512_zextsi256_si512(lo), flip);
        madd<NT>(codes, half_pair(blk, blk), s, acc[r]);
      }
    }
  } else if constexpr (T == DType::MXFP4) {
    // Weight scale x activation scale of each block of the chunk, once per chunk (lanes 0-7),
    // where per step they had cost two scalar conversions and a product per token (+25 % on
    // one core).
    const __m512i table = _mm512_broadcast_i32x4(mxfp4_table(16)), low = _mm512_set1_epi8(15);
    const int64_t nb = kc / 32;
    ChunkActs<NT> acts;
    load_chunk<NT>(tp, k0, kc, 32, acts);
    __m512 sx[R][NT];
    for (int r = 0; r < R; ++r) {
      const __m512 ws = mxfp4_chunk_scales(rows[r] + (k0 / 32) * 17, nb);
      for (int t = 0; t < NT; ++t) sx[r][t] = _mm512_mul_ps(ws, acts.scale[t]);
    }
    const __m512i lane_blk = _mm512_srli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 3);
    const auto step = [&](int m, auto half) {
      load_step<NT, false>(tp, acts, k0, m, 32, half(), s);
      const __m512i blk = _mm512_add_epi32(lane_blk, _mm512_set1_epi32(2 * m));
      for (int r = 0; r < R; ++r) {
        const uint8_t* b0 = rows[r] + (k0 / 32 + 2 * m) * 17;
        const __m512i codes = mxfp4_pair_codes(b0, half() ? b0 : b0 + 17, table, low);
        for (int t = 0; t < NT; ++t) {
          const __m512i isum = _mm512_dpbusd_epi32(s.bias[t], codes, s.x[t]);
          acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(blk, sx[r][t]), acc[r][t]);
        }
      }
    };
    int m = 0;
    for (; 2 * m + 2 <= nb; ++m) step(m, std::false_type{});
    // One block left: its upper lanes meet zero activations and biases.
    if (2 * m < nb) step(m, std::true_type{});
  } else if constexpr (T == DType::Q4_K) {
    const int64_t sb = k0 / 256, n_sb = kc / 256;  // 1 or 2
    const __m512i low = _mm512_set1_epi8(15);
    // Lane patterns of the sub-block scales: lanes 0-7 take sub-block a, lanes 8-15 sub-block b
    // (0-7 of the first super-block, 8-15 of the second).
    const auto pattern = [](int a, int b) {
      const int64_t lo = a * 0x0000000100000001ll, hi = b * 0x0000000100000001ll;
      return _mm512_set_epi64(hi, hi, hi, hi, lo, lo, lo, lo);
    };
    // [super-block][half][low / high nibbles]: the low nibbles of half h are sub-blocks 4h and
    // 4h + 2, the high ones 4h + 1 and 4h + 3.
    const __m512i idx[2][2][2] = {{{pattern(0, 2), pattern(1, 3)}, {pattern(4, 6), pattern(5, 7)}},
                                  {{pattern(8, 10), pattern(9, 11)}, {pattern(12, 14), pattern(13, 15)}}};
    const __mmask16 lanes = n_sb == 2 ? 0xffff : 0x00ff;
    for (int r = 0; r < R; ++r) {
      const uint8_t* blk = rows[r] + sb * 144;
      __m512 dsc, dmn;
      if (n_sb == 2) {
        scales_k4_x2(blk, blk + 144, dsc, dmn);
      } else {
        __m256 s8, m8;
        scales_k4(blk, s8, m8);
        dsc = _mm512_zextps256_ps512(s8);
        dmn = _mm512_zextps256_ps512(m8);
      }
      // Per token, weight scale x activation scale of each block of 32: both change at the same
      // block boundaries, so one product per super-block serves all its lanes.
      __m512 scale[NT];
      for (int t = 0; t < NT; ++t) {
        scale[t] = _mm512_mul_ps(dsc, _mm512_maskz_loadu_ps(lanes, tp.blk_scale[t] + sb * 8));
        accm[r][t] = _mm512_fmadd_ps(dmn, _mm512_maskz_loadu_ps(lanes, tp.qsum[t] + sb * 8), accm[r][t]);
      }
      for (int j = 0; j < n_sb; ++j) {
        // 64 bytes of codes: low nibbles are sub-blocks 0 and 2 (4 and 6), high nibbles 1 and 3
        // (5 and 7), the order of the activations (ActFormat::Q8_K4). Each half sums into its
        // own register: one chain of FMAs through the whole row would make their latency, not
        // the arithmetic or the memory, the limit.
        __m512 part[2][NT];
        for (int half = 0; half < 2; ++half) {
          const __m512i v = _mm512_loadu_si512(blk + 144 * j + 16 + 64 * half);
          const __m512i lo = _mm512_and_si512(v, low), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
          for (int t = 0; t < NT; ++t) {
            const int8_t* x = tp.q[t] + k0 + 256 * j + 128 * half;
            const __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(x));
            const __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_loadu_si512(x + 64));
            const __m512 s0 = _mm512_permutexvar_ps(idx[j][half][0], scale[t]);
            const __m512 s1 = _mm512_permutexvar_ps(idx[j][half][1], scale[t]);
            part[half][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), s1, _mm512_mul_ps(_mm512_cvtepi32_ps(i0), s0));
          }
        }
        for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_add_ps(acc[r][t], _mm512_add_ps(part[0][t], part[1][t]));
      }
    }
  } else if constexpr (T == DType::Q6_K) {
    const int64_t sb = k0 / 256;
    __m512 dsc[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* blk = rows[r] + sb * 210;
      const __m512i sc = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)));
      dsc[r] = _mm512_mul_ps(_mm512_set1_ps(load_f16_scalar(blk + 208)), _mm512_cvtepi32_ps(sc));
    }
    const __m512i low = _mm512_set1_epi8(15), top = _mm512_set1_epi8(0x30);
    // 16-bit shifts per half: the first 64 columns of a half take bits 0-1 / 2-3 of qh into bits
    // 4-5, the next 64 bits 4-5 / 6-7. Masks drop what crossed over from the neighbouring byte.
    const __m512i shl_a = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i shr_b = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    ChunkActs<NT> acts;
    load_chunk<NT>(tp, k0, 256, 16, acts);
    for (int h = 0; h < 2; ++h) {
      Step<NT> s2;
      load_step<NT>(tp, acts, k0, 2 * h, 16, false, s);
      load_step<NT>(tp, acts, k0, 2 * h + 1, 16, false, s2);
      const __m512i ia = _mm512_set_epi32(8 * h + 3, 8 * h + 3, 8 * h + 3, 8 * h + 3, 8 * h + 2, 8 * h + 2, 8 * h + 2,
                                          8 * h + 2, 8 * h + 1, 8 * h + 1, 8 * h + 1, 8 * h + 1, 8 * h, 8 * h, 8 * h,
                                          8 * h);
      const __m512i ib = _mm512_add_epi32(ia, _mm512_set1_epi32(4));
      for (int r = 0; r < R; ++r) {
        const uint8_t* blk = rows[r] + sb * 210;
        const __m512i ql = _mm512_loadu_si512(blk + 64 * h);  // a = columns 0-31 / 64-95, b = 32-63 / 96-127
        const __m512i qh =
            _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 128 + 32 * h)));
        const __m512i ca = _mm512_or_si512(_mm512_and_si512(ql, low),
                                           _mm512_and_si512(_mm512_sllv_epi16(qh, shl_a), top));
        const __m512i cb = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low),
                                           _mm512_and_si512(_mm512_srlv_epi16(qh, shr_b), top));
        madd<NT>(ca, _mm512_permutexvar_ps(ia, dsc[r]), s, acc[r]);
        madd<NT>(cb, _mm512_permutexvar_ps(ib, dsc[r]), s2, acc[r]);
      }
    }
  }
}

template <DType T, int R, int NT>
void rows_block(const WeightMatrix& w, const TokenPtrs<NT>& tp, int64_t r, float* y) {
  __m512 acc[R][NT], accm[R][NT];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < NT; ++t) acc[i][t] = accm[i][t] = _mm512_setzero_ps();
  const uint8_t* rows[R];
  for (int i = 0; i < R; ++i) rows[i] = w.row(r + i);
  const int64_t ahead = cpu_features().decode_prefetch_bytes;
  for (int64_t k0 = 0; k0 < w.cols; k0 += kChunkCols<T>) {
    // Decoding alone does not keep enough loads in flight to stream at memory speed.
    for (int i = 0; i < R; ++i) {
      const char* next = reinterpret_cast<const char*>(rows[i]) + (k0 / kChunkCols<T>) * kChunkBytes<T> + ahead;
      for (int64_t b = 0; b < kChunkBytes<T>; b += 64) _mm_prefetch(next + b, _MM_HINT_T0);
    }
    chunk<T, R, NT>(rows, tp, k0, min_i64(kChunkCols<T>, w.cols - k0), acc, accm);
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < NT; ++t) {
      float v = _mm512_reduce_add_ps(acc[i][t]);
      // Minimums enter with a minus sign: value = d * sc * q - dmin * m.
      if constexpr (T == DType::Q4_K) v -= _mm512_reduce_add_ps(accm[i][t]);
      y[t * w.rows + r + i] = v;
    }
}

template <DType T, int NT>
void gemv_n(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  TokenPtrs<NT> tp;
  const int64_t cols = w.cols;
  for (int t = 0; t < NT; ++t) {
    tp.q[t] = a.q + t * cols;
    tp.qsum[t] = a.qsum + t * (cols / 32);
    tp.blk_scale[t] = a.scale + t * (cols / 32);
    tp.bias[t] = a.bias + t * (cols / (T == DType::Q6_K ? 16 : 32));
  }
  int64_t r = r0;
  for (; r + kRows <= r1; r += kRows) rows_block<T, kRows, NT>(w, tp, r, y);
  for (; r < r1; ++r) rows_block<T, 1, NT>(w, tp, r, y);
}

}  // namespace

template <DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  with_token_count(a.n_tokens, [&](auto nt) { gemv_n<T, nt()>(w, a, r0, r1, y); });
}

template void gemv<DType::Q8_0>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemv<DType::Q4_K>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemv<DType::Q6_K>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);
template void gemv<DType::MXFP4>(const WeightMatrix&, const Acts&, int64_t, int64_t, float*);

}  // namespace fare::avx512_vnni
