#include "ops/mxfp4.h"

#include <cstring>

namespace fare {

float mxfp4_scale(uint8_t e) {
  // The exponent field of a float is e - 1 for 2^(e - 128); below e = 2 that field would be 0,
  // so the value is a subnormal: the mantissa bit for 2^-128 is bit 21, for 2^-127 bit 22.
  const uint32_t bits = e < 2 ? uint32_t{0x00200000} << e : static_cast<uint32_t>(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

void mxfp4_block_from_hf(uint8_t scale, const uint8_t* hf_pairs, uint8_t* ggml_block) {
  // Value v lies in HF byte v / 2 (nibble v % 2); ggml byte j holds values j and j + 16.
  const auto nibble = [&](int v) { return (hf_pairs[v / 2] >> (4 * (v % 2))) & 15; };
  ggml_block[0] = scale;
  for (int j = 0; j < kMxfp4Block / 2; ++j)
    ggml_block[1 + j] = static_cast<uint8_t>(nibble(j) | nibble(j + kMxfp4Block / 2) << 4);
}

void mxfp4_row_from_hf(const uint8_t* blocks, const uint8_t* scales, int64_t n_blocks, uint8_t* dst) {
  for (int64_t b = 0; b < n_blocks; ++b)
    mxfp4_block_from_hf(scales[b], blocks + 16 * b, dst + kMxfp4BlockBytes * b);
}

}  // namespace fare
