// The kernel table: for each weight type, the functions that multiply it by activations, in one
// set per instruction-set level. A set is chosen once (best for this CPU, or by name) and handed
// to the model with the thread pool in a Compute context.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/dtype.h"
#include "ops/attention.h"
#include "ops/matmul.h"

namespace fare {

class ThreadPool;

// How a tile kernel wants the activations: as they are, or quantized once per matrix product.
enum class ActFormat : uint8_t {
  F32,   // exact: weights are decoded to float and multiplied by float activations
  Q8,    // int8 blocks of 32 with a float scale each (weights stay integer: VNNI / AMX-INT8)
  BF16,  // activations rounded to bfloat16 (vdpbf16ps)
  BF16_TILES,  // the same values laid out as AMX-BF16 activation tiles (Acts::bf_tiles)
  BF16_PANELS,  // the same values in panels of kBf16PanelTokens tokens (Acts::bf_panels)
  Q8_PANELS,    // Q8, and the same codes and scales in panels of kQ8PanelTokens tokens (Acts::q_panels)
  Q8_K4,        // Q8 with the codes' blocks of 32 in the order a Q4_K super-block's nibbles come (Acts::q)
};

// ActFormat::BF16_PANELS: panels of this many tokens (the register block of the AVX-512 BF16
// prefill) and column pairs (its column chunk).
inline constexpr int64_t kBf16PanelTokens = 64;
inline constexpr int64_t kBf16PanelPairs = 256;
// ActFormat::Q8_PANELS: tokens per panel (the register block of the AVX-512 VNNI prefill) and
// groups of 4 columns per column chunk (its tile width).
inline constexpr int64_t kQ8PanelTokens = 6;
inline constexpr int64_t kQ8PanelQuads = 256;

// Activations of one matrix product, prepared once and read by every thread.
struct Acts {
  int64_t n_tokens = 0;
  int64_t cols = 0;
  const float* x = nullptr;  // [n_tokens][cols], always present
  // Q8: q[t * cols + c] int8; scale[t * (cols/32) + b] of each block of 32 (x ≈ scale * q);
  // bias[t * (cols/group) + g] = -offset * (sum of q over group g), the integer correction for
  // weight codes stored with an offset (see TypeKernels::q8_offset); qsum[t * (cols/32) + b] =
  // scale * sum of q over block b, for the per-block minimums of Q4_K / Q5_K.
  // Q8_K4: the same, but within each 256 columns q holds the blocks of 32 in the order
  // 0 2 1 3 4 6 5 7: Q4_K keeps blocks 2i and 2i+1 in the low and high nibbles of the same 32
  // bytes, so 64 bytes of its codes split into [0 2] and [1 3] (then [4 6], [5 7]) with one mask
  // and one shift, and the activations meet them in that order. scale, qsum and bias stay in
  // column order.
  const int8_t* q = nullptr;
  const float* scale = nullptr;
  const int32_t* bias = nullptr;
  const float* qsum = nullptr;
  // BF16: bf[t * ld + c] with ld = cols rounded up to even (a zero pads odd rows: kernels read pairs).
  const uint16_t* bf = nullptr;
  // BF16_TILES: for each block of 16 tokens (zero rows past the last token), each pair of columns
  // p (zero past the last column, up to whole tiles of 32 columns), 16 tokens x 2 values:
  // bf_tiles[((tb * pairs + p) * 16 + token % 16) * 2 + i], pairs = ceil(cols / 32) * 16.
  const uint16_t* bf_tiles = nullptr;
  // BF16_PANELS: the same values, for a kernel that walks column chunks of kBf16PanelPairs pairs
  // and blocks of kBf16PanelTokens tokens: chunk c (its pc <= kBf16PanelPairs pairs; zero past
  // the last column), token block tb (zero rows past the last token), pair p of the chunk:
  // bf_panels[(((c * n_blocks * kBf16PanelPairs + tb * pc + p) * kBf16PanelTokens + token % kBf16PanelTokens) * 2 + i].
  // A chunk's panels are one run of memory and a panel's column pair one run of bytes.
  const uint16_t* bf_panels = nullptr;
  // Q8_PANELS: q, scale, qsum and bias as above, and the same values for a kernel that walks
  // column chunks of kQ8PanelQuads groups of 4 and blocks of kQ8PanelTokens tokens (zeros past
  // the last token): chunk c (pc <= kQ8PanelQuads quads), token block tb, quad u of the chunk:
  // q_panels[((c * n_blocks * kQ8PanelQuads + tb * pc + u) * kQ8PanelTokens + token % kQ8PanelTokens) * 4 + i];
  // the per-block and per-group values as [tb][block or group][token % kQ8PanelTokens].
  const int8_t* q_panels = nullptr;
  const float* scale_panels = nullptr;
  const float* qsum_panels = nullptr;
  const int32_t* bias_panels = nullptr;
};

// Computes y[t * w.rows + r] for r in [r0, r1) and every token t of `a`.
using RowsFn = void (*)(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y);

// One token's activations to int8 blocks of 32 (ActFormat::Q8): scale[b] = max|x| / 127 and
// q = x / scale rounded to nearest even, qsum[b] = scale[b] * sum(q of block b), and
// bias[g] = -offset * sum(q of group g) for groups of `group` values. Every implementation
// gives the same bytes.
using QuantizeQ8Fn = void (*)(const float* x, int64_t cols, int offset, int group, int8_t* q, float* scale,
                              float* qsum, int32_t* bias);
// ActFormat::BF16_PANELS for token block b (kBf16PanelTokens tokens) of x, n_tokens rows of
// `cols` floats: the block's panels in every column chunk of out (Acts::bf_panels' layout, as
// uint32 pairs), values rounded as f32_to_bf16, zeros past the last token and column. Every
// implementation gives the same bytes.
using Bf16PanelBlockFn = void (*)(const float* x, int64_t n_tokens, int64_t cols, int64_t b, uint32_t* out);
void bf16_panel_block_reference(const float* x, int64_t n_tokens, int64_t cols, int64_t b, uint32_t* out);
// SwiGLU of one token: out = gate / (1 + e^-gate) * up (out may be gate).
using SwigluFn = void (*)(const float* gate, const float* up, int64_t n, float* out);
// The portable one (the oracle of the others).
void quantize_q8_reference(const float* x, int64_t cols, int offset, int group, int8_t* q, float* scale, float* qsum,
                           int32_t* bias);

// Products with at most this many tokens take the row-streaming kernel (decode); more take the
// tiled one (prefill), which decodes each weight tile once for all tokens.
inline constexpr int64_t kGemvMaxTokens = 4;

struct TypeKernels {
  RowsFn gemv = nullptr;  // n_tokens <= kGemvMaxTokens; reads the format gemv_act
  RowsFn gemm = nullptr;  // more tokens; reads the format act
  ActFormat act = ActFormat::F32;
  // Decode is bound by memory on many cores, but with few cores decoding weights to float costs
  // more than reading them: the "fast" sets' streaming kernels also take rounded activations.
  ActFormat gemv_act = ActFormat::F32;
  int row_align = 1;      // gemm row ranges start at multiples of this (its register tile height)
  // Q8 only (both kernels): weight codes are read as unsigned bytes u with value
  // scale * (u - q8_offset) (+ a per-block minimum) over groups of q8_group values; Acts::bias
  // corrects for the offset.
  int q8_offset = 0;
  int q8_group = 32;
  // The tile kernel multiplies the weights as decoded and then rounded to bfloat16 (nearest
  // even), not the decoded floats: integer weights on AMX-BF16 tiles.
  bool gemm_weights_bf16 = false;
  // Matrices packed with this layout (WeightMatrix::packing) take these two kernels instead,
  // with the same activation formats; gemv_packed gets row ranges in whole packing->row_block.
  const WeightPacking* packing = nullptr;
  RowsFn gemv_packed = nullptr;
  RowsFn gemm_packed = nullptr;
  // Streamed tokens gemv_packed takes per call (matmul sends more in groups of this many); the
  // gemv of stored rows takes kGemvMaxTokens.
  int gemv_packed_tokens = static_cast<int>(kGemvMaxTokens);
};

inline constexpr size_t kNumDTypes = static_cast<size_t>(DType::F64) + 1;

struct KernelSet {
  const char* name = "";
  const char* summary = "";
  bool exact = true;  // every weight type multiplies float activations (no activation rounding)
  std::array<TypeKernels, kNumDTypes> types{};
  AttendFn attend = nullptr;  // attention for a block of query rows; nullptr: attend_reference
  // On a BF16 KV cache, attend multiplies its keys and values by bf16-rounded queries and
  // probabilities (never in an exact set).
  bool attend_rounds = false;
  QuantizeQ8Fn quantize_q8 = nullptr;  // nullptr: the portable one in matmul.cpp
  SwigluFn swiglu = nullptr;  // nullptr: swiglu of math.h (the C library's expf)
  Bf16PanelBlockFn bf16_panel_block = nullptr;  // nullptr: the portable one in matmul.cpp

  const TypeKernels& of(DType t) const { return types[static_cast<size_t>(t)]; }
};

// Every set this build knows, best last; `supported` says whether this CPU can run it.
struct KernelSetInfo {
  const KernelSet* set;
  bool supported;
  std::string needs;  // CPU features it needs
};
std::vector<KernelSetInfo> kernel_sets();

// "auto" (or "fast"): the fastest set this CPU runs, which may round activations to int8 blocks
// or bf16 as llama.cpp does (prefill 2-3x faster than "exact" and decode up to 2x; logits within
// the fixtures' llama.cpp-derived tolerances). "exact": the fastest set with exact=true (float
// activations: results within float rounding of the reference). With either, a token gives the
// same bits whether it is decoded alone or in a batch. Otherwise a set by name. Throws fare::Error for an unknown name or one this CPU
// cannot run, listing the names it can.
const KernelSet& select_kernels(std::string_view name);

// Names of the sets this CPU can run, e.g. "reference, avx2, avx512".
std::string supported_kernel_names();

// The reference set (always available; the oracle of every test).
const KernelSet& reference_kernels();

// "amx-int8-emulated" or "amx-bf16-emulated": that AMX set with its tile instructions run on a
// scalar model of the tile unit, so the tests check the AMX kernels' layouts and scale handling
// on CPUs without AMX. Slow; never chosen by select_kernels. nullptr for another name, or where
// the build or the CPU lacks what it needs (AVX-512 VNNI + BF16).
const KernelSet* amx_emulated_kernels(std::string_view name);

}  // namespace fare
