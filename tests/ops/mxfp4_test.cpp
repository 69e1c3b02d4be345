// MXFP4's scale and the Hugging Face -> ggml block conversion (ops/mxfp4.h): the converted blocks
// decode to the values the Hugging Face release defines (transformers' convert_moe_packed_tensors:
// FP4_VALUES[nibble] * 2^(scale - 127), byte i holding values 2i and 2i + 1), worked out here
// independently in double.
#include "ops/mxfp4.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "common/dtype.h"
#include "ops/dequant.h"

namespace fare {
namespace {

// The release's table (e2m1), indexed by nibble.
constexpr double kFp4Values[16] = {+0.0, +0.5, +1.0, +1.5, +2.0, +3.0, +4.0, +6.0,
                                   -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0};

// Value v of a Hugging Face block, as the release computes it.
double hf_value(uint8_t scale, const uint8_t* pairs, int v) {
  const int nibble = v % 2 ? pairs[v / 2] >> 4 : pairs[v / 2] & 15;
  return std::ldexp(kFp4Values[nibble], scale - 127);
}

TEST(Mxfp4, ScaleIsTwoToTheEMinus128) {
  EXPECT_EQ(std::bit_cast<uint32_t>(mxfp4_scale(0)), 0x00200000u);  // 2^-128, subnormal
  EXPECT_EQ(std::bit_cast<uint32_t>(mxfp4_scale(1)), 0x00400000u);  // 2^-127, subnormal
  EXPECT_EQ(mxfp4_scale(2), 0x1p-126f);
  EXPECT_EQ(mxfp4_scale(127), 0.5f);
  EXPECT_EQ(mxfp4_scale(128), 1.0f);
  EXPECT_EQ(mxfp4_scale(255), 0x1p127f);  // no NaN: ggml's decoder reads 255 as a scale too
  for (int e = 0; e < 256; ++e) EXPECT_EQ(mxfp4_scale(static_cast<uint8_t>(e)), std::ldexp(1.0f, e - 128)) << e;
}

TEST(Mxfp4, HfBlockRegroupsNibbles) {
  // HF byte i = value 2i | value 2i + 1 << 4, with value v's code v % 16 (every code, twice).
  uint8_t hf[16];
  for (int i = 0; i < 16; ++i) hf[i] = static_cast<uint8_t>((2 * i) % 16 | ((2 * i + 1) % 16) << 4);
  uint8_t g[17];
  mxfp4_block_from_hf(121, hf, g);
  EXPECT_EQ(g[0], 121);  // the same exponent byte
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(g[1 + j] & 15, j % 16) << "value " << j;                // ggml: low nibble j = value j
    EXPECT_EQ(g[1 + j] >> 4, (j + 16) % 16) << "value " << j + 16;  // high nibble j = value j + 16
  }
}

TEST(Mxfp4, HfRowsDecodeToTheReleaseValues) {
  std::mt19937 rng(7);
  constexpr int64_t kBlocks = 64;
  std::vector<uint8_t> blocks(16 * kBlocks), scales(kBlocks), row(row_bytes(DType::MXFP4, 32 * kBlocks));
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  // Every scale byte whose values stay finite floats: 6 * 2^(e - 127) < 2^128 for e <= 252.
  for (int64_t b = 0; b < kBlocks; ++b) scales[b] = static_cast<uint8_t>(b < 3 ? b : rng() % 253);
  scales[3] = 252;
  mxfp4_row_from_hf(blocks.data(), scales.data(), kBlocks, row.data());
  std::vector<float> got(32 * kBlocks);
  dequantize_row(DType::MXFP4, row.data(), got.data(), 32 * kBlocks);
  for (int64_t b = 0; b < kBlocks; ++b)
    for (int v = 0; v < 32; ++v) {
      // Equal as numbers: the release's -0 (code 8) is ggml's 0.
      const double want = hf_value(scales[b], blocks.data() + 16 * b, v);
      ASSERT_EQ(static_cast<double>(got[32 * b + v]), want) << "block " << b << " value " << v;
    }
  // A row converts block by block.
  uint8_t one[17];
  mxfp4_block_from_hf(scales[5], blocks.data() + 16 * 5, one);
  EXPECT_TRUE(std::equal(one, one + 17, row.data() + 17 * 5));
}

}  // namespace
}  // namespace fare
