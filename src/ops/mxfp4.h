// MXFP4 (OCP microscaling FP4), the type of gpt-oss's expert weights, in ggml's block layout
// (DType::MXFP4), and the conversion from the layout of the Hugging Face release.
//
// A ggml block holds 32 values in 17 bytes: e, an E8M0 exponent byte, then qs[16], whose low
// nibble j is value j and high nibble j is value j + 16. A nibble is an e2m1 code: bit 3 the
// sign, bits 0-2 the magnitude {0, 0.5, 1, 1.5, 2, 3, 4, 6}. ggml keeps those magnitudes doubled
// as small integers (kMxfp4Values) and halves the scale to match: value = kMxfp4Values[nibble] *
// 2^(e - 128), the same number as e2m1 * 2^(e - 127). Every such product is a float exactly
// (at most two significant bits times a power of two) unless it overflows: e = 255 is not NaN
// here, as in ggml's decoder, and 254 or 255 with a large code give infinity.
//
// Hugging Face (transformers' integrations/mxfp4.py, from the gpt-oss release) stores each
// expert matrix as `*_blocks` uint8 [..., n_blocks, 16] and `*_scales` uint8 [..., n_blocks]:
// the same codes and the same exponent byte (value = FP4_VALUES[nibble] * 2^(scale - 127)), but
// byte i of a block holds values 2i (low nibble) and 2i + 1 (high nibble). mxfp4_block_from_hf
// regroups the nibbles into ggml's order; llama.cpp's converter writes the same bytes.
#pragma once

#include <cstdint>

namespace fare {

inline constexpr int kMxfp4Block = 32;        // values per block
inline constexpr int kMxfp4BlockBytes = 17;   // e + qs[16]

// e2m1 codes times 2, indexed by nibble (ggml's kvalues_mxfp4); code 8 is -0, which is 0 here.
inline constexpr int8_t kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e - 128) as ggml computes it (GGML_E8M0_TO_FP32_HALF): e = 0 and 1 give the subnormals
// 2^-128 and 2^-127, e = 255 gives 2^127 (no NaN).
float mxfp4_scale(uint8_t e);

// One Hugging Face block (its scale byte, its 16 bytes of pairs) to a ggml block of 17 bytes.
void mxfp4_block_from_hf(uint8_t scale, const uint8_t* hf_pairs, uint8_t* ggml_block);

// A row of n_blocks Hugging Face blocks (blocks: n_blocks x 16 bytes, scales: n_blocks bytes)
// to n_blocks ggml blocks at dst (row_bytes(DType::MXFP4, 32 * n_blocks) bytes).
void mxfp4_row_from_hf(const uint8_t* blocks, const uint8_t* scales, int64_t n_blocks, uint8_t* dst);

}  // namespace fare
