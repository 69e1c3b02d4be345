// Entry points of the x86 kernels, one namespace per instruction-set level, each defined in its
// own file compiled with that level's flags (see src/ops/CMakeLists.txt). Only kernels.cpp takes
// their addresses, and only runs them after CPUID said the CPU can.
//
// Rules for the files behind this header, because the linker keeps one copy of every inline
// function and template instance it sees, whichever file it came from: they use no std
// containers, no FARE_CHECK / fare::cat and no inline functions of other project headers, and
// keep their own helpers in an unnamed namespace; nothing at namespace scope needs dynamic
// initialisation. Otherwise a portable caller could end up running AVX-512 code.
#pragma once

#include <cstdint>

#include "common/dtype.h"
#include "ops/kernels.h"

namespace fare {

// AVX2 + FMA + F16C: exact (float activations) for every weight type.
namespace avx2 {
inline constexpr int kRowTile = 16;
template <DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0, const KvRows& kv,
            float* out, float* scratch);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
}  // namespace avx2

// AVX2: Q8_0, Q4_K, Q6_K and MXFP4 decode on int8 activation blocks (vpmaddubsw); the rest is avx2's.
namespace avx2_int8 {
template <DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <>
void gemv<DType::Q8_0>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <>
void gemv<DType::Q4_K>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <>
void gemv<DType::Q6_K>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <>
void gemv<DType::MXFP4>(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
}  // namespace avx2_int8

// AVX-512 F/BW/VL/DQ: exact for every weight type.
namespace avx512 {
inline constexpr int kRowTile = 32;
template <DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0, const KvRows& kv,
            float* out, float* scratch);
void swiglu(const float* gate, const float* up, int64_t n, float* out);
}  // namespace avx512

// AVX-512 VNNI: integer weights times int8 activation blocks (ActFormat::Q8) with vpdpbusd.
namespace avx512_vnni {
inline constexpr int kRowTile = 32;
// Decode (Q8_0, Q4_K, Q6_K, MXFP4): Q4_K on ActFormat::Q8_K4.
template <DType T>
void gemv(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void quantize_q8(const float* x, int64_t cols, int offset, int group, int8_t* q, float* scale, float* qsum,
                 int32_t* bias);
}  // namespace avx512_vnni

// AVX-512 BF16: BF16 weights times bfloat16-rounded activations (ActFormat::BF16) with vdpbf16ps.
namespace avx512_bf16 {
// Prefill row ranges start at multiples of this: a whole number of 6-row register tiles and of
// 16-row output transpositions, and the block of the packed layout.
inline constexpr int kRowTile = 48;
void gemv_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void bf16_panel_block(const float* x, int64_t n_tokens, int64_t cols, int64_t b, uint32_t* out);
// Attention with its products on bf16 (avx512_bf16_attention.cpp).
void attend(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0, const KvRows& kv,
            float* out, float* scratch);
// Weights packed once at load: each block of 48 rows as [column pair][row][2 bf16].
extern const WeightPacking kBf16PairTiles;
void gemv_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void gemm_bf16_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
}  // namespace avx512_bf16

// AMX tiles: INT8 for integer weights (ActFormat::Q8), BF16 for BF16 weights and for integer
// weights decoded to bf16 (gemm_decoded) (ActFormat::BF16_TILES).
namespace amx {
inline constexpr int kRowTile = 16;
template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <DType T>
void gemm_decoded(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
// Decode of Q8_0 weights packed at load in tiles of 16 rows (kQ8_0Tiles, which
// gemm_decoded<Q8_0> also reads) on int8 activation blocks (ActFormat::Q8): up to 16 tokens a
// call, each token one lane of every vector.
void gemv_q8_0_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
extern const WeightPacking kQ8_0Tiles;
// The same kernels on a scalar model of the tile unit (AVX-512 only), for the tests.
namespace emulated {
template <DType T>
void gemm(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
template <DType T>
void gemm_decoded(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void gemm_bf16(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
void gemv_q8_0_packed(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);
}  // namespace emulated
}  // namespace amx

}  // namespace fare
