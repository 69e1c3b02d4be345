#include "ops/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "common/half.h"
#include "ops/mxfp4.h"

// Block layouts are those dequant.cpp decodes (ggml's). The Q8_0/Q4_0 arithmetic mirrors ggml's
// quantize_row_*_ref step for step (this file is compiled without FMA contraction so that the
// products round the same way), which makes their output byte-identical to ggml's.

namespace fare {

namespace {

constexpr int kQK = 32;    // values per Q8_0 / Q4_0 block
constexpr int kQKK = 256;  // values per K-quant super-block

inline void store_f16(uint8_t* p, float v) {
  const uint16_t h = f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

// The smallest half >= v (v >= 0): a scale rounded up keeps every value of its block in range.
inline uint16_t f16_round_up(float v) {
  uint16_t h = f32_to_f16(v);
  if (f16_to_f32(h) < v) ++h;
  return h;
}

// ceil(need / unit), clamped to [0, max]; 0 when the unit is 0 (an all-zero block).
inline int steps_up(float need, float unit, int max) {
  if (!(unit > 0)) return 0;
  return std::clamp(static_cast<int>(std::ceil(need / unit)), 0, max);
}

void quant_q8_0(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK, y += 34) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(y, d);
    auto* qs = reinterpret_cast<int8_t*>(y + 2);
    for (int j = 0; j < kQK; ++j) qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void quant_q4_0(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK, y += 18) {
    // The signed value of largest magnitude maps to -8, so that end of the range is exact.
    float amax = 0.0f, vmax = 0.0f;
    for (int j = 0; j < kQK; ++j)
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        vmax = x[j];
      }
    const float d = vmax / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    store_f16(y, d);
    uint8_t* qs = y + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      // Truncation of a value >= 0.5 after adding 8.5: round to nearest, as ggml does.
      const int lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK / 2] * id + 8.5f)));
      qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

// Scales and mins of the 8 sub-blocks of a Q4_K/Q5_K super-block, with the 4-bit or 5-bit
// values they give (q in [0, n_max]).
struct KBlock {
  uint16_t d = 0, dmin = 0;
  uint8_t sc[8] = {}, m[8] = {};
  uint8_t q[kQKK] = {};
};

// value = d*sc*q - dmin*m. The offset dmin*m is rounded up to reach the sub-block minimum (or 0),
// then the step d*sc is rounded up to reach its maximum from there.
KBlock quant_k_minmax(const float* x, int n_max) {
  KBlock k;
  float lo[8], hi[8], max_neg = 0.0f;
  for (int j = 0; j < 8; ++j) {
    lo[j] = 0.0f;  // the offset can only move values down, so a positive minimum counts as 0
    hi[j] = x[32 * j];
    for (int l = 0; l < 32; ++l) {
      lo[j] = std::min(lo[j], x[32 * j + l]);
      hi[j] = std::max(hi[j], x[32 * j + l]);
    }
    max_neg = std::max(max_neg, -lo[j]);
  }
  k.dmin = f16_round_up(max_neg / 63.0f);
  const float dmin = f16_to_f32(k.dmin);
  float off[8], need[8], max_need = 0.0f;
  for (int j = 0; j < 8; ++j) {
    k.m[j] = static_cast<uint8_t>(steps_up(-lo[j], dmin, 63));
    off[j] = dmin * static_cast<float>(k.m[j]);
    need[j] = std::max(0.0f, (hi[j] + off[j]) / static_cast<float>(n_max));
    max_need = std::max(max_need, need[j]);
  }
  k.d = f16_round_up(max_need / 63.0f);
  const float d = f16_to_f32(k.d);
  for (int j = 0; j < 8; ++j) {
    k.sc[j] = static_cast<uint8_t>(steps_up(need[j], d, 63));
    const float step = d * static_cast<float>(k.sc[j]);
    for (int l = 0; l < 32; ++l) {
      const float v = step > 0 ? std::round((x[32 * j + l] + off[j]) / step) : 0.0f;
      k.q[32 * j + l] = static_cast<uint8_t>(std::clamp(static_cast<int>(v), 0, n_max));
    }
  }
  return k;
}

// The 12 scale bytes dequant.cpp's scale_min_k4 unpacks.
void pack_scales_k4(const KBlock& k, uint8_t* s) {
  std::memset(s, 0, 12);
  for (int j = 0; j < 4; ++j) {
    s[j] = k.sc[j];
    s[j + 4] = k.m[j];
  }
  for (int j = 4; j < 8; ++j) {
    s[j + 4] = static_cast<uint8_t>((k.sc[j] & 15) | ((k.m[j] & 15) << 4));
    s[j - 4] |= static_cast<uint8_t>((k.sc[j] >> 4) << 6);
    s[j] |= static_cast<uint8_t>((k.m[j] >> 4) << 6);
  }
}

void quant_q4_k(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, y += 144) {
    const KBlock k = quant_k_minmax(x, 15);
    std::memcpy(y, &k.d, 2);
    std::memcpy(y + 2, &k.dmin, 2);
    pack_scales_k4(k, y + 4);
    uint8_t* qs = y + 16;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        qs[32 * c + l] = static_cast<uint8_t>(k.q[64 * c + l] | (k.q[64 * c + 32 + l] << 4));
  }
}

void quant_q5_k(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, y += 176) {
    const KBlock k = quant_k_minmax(x, 31);
    std::memcpy(y, &k.d, 2);
    std::memcpy(y + 2, &k.dmin, 2);
    pack_scales_k4(k, y + 4);
    uint8_t* qh = y + 16;
    uint8_t* qs = y + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const int a = k.q[64 * c + l], b2 = k.q[64 * c + 32 + l];
        qs[32 * c + l] = static_cast<uint8_t>((a & 15) | ((b2 & 15) << 4));
        qh[l] |= static_cast<uint8_t>(((a >> 4) << (2 * c)) | ((b2 >> 4) << (2 * c + 1)));
      }
  }
}

// Q6_K: value = d*sc*(q - 32) with one int8 scale per 16 values. Symmetric: the step is rounded
// up so that +-amax fits in +-31 steps.
void quant_q6_k(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQKK, y += 210) {
    float need[16], max_need = 0.0f;
    for (int g = 0; g < 16; ++g) {
      float amax = 0.0f;
      for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * g + l]));
      need[g] = amax / 31.0f;
      max_need = std::max(max_need, need[g]);
    }
    const uint16_t dh = f16_round_up(max_need / 127.0f);
    const float d = f16_to_f32(dh);
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    auto* scales = reinterpret_cast<int8_t*>(y + 192);
    std::memset(y, 0, 192);
    std::memcpy(y + 208, &dh, 2);
    for (int g = 0; g < 16; ++g) scales[g] = static_cast<int8_t>(steps_up(need[g], d, 127));
    for (int e = 0; e < kQKK; ++e) {
      const float step = d * static_cast<float>(scales[e / 16]);
      const float v = step > 0 ? std::round(x[e] / step) : 0.0f;
      const int q = std::clamp(static_cast<int>(v), -32, 31) + 32;
      const int n = e / 128, g = (e % 128) / 32, l = e % 32;
      uint8_t& low = ql[64 * n + (g & 1) * 32 + l];
      low |= static_cast<uint8_t>(g < 2 ? (q & 15) : (q & 15) << 4);
      qh[32 * n + l] |= static_cast<uint8_t>((q >> 4) << (2 * g));
    }
  }
}

// ggml's quantize_row_mxfp4_ref, step for step, so a block gets the bytes ggml writes: the
// exponent puts the block's largest magnitude amax in [8, 16) scale units (e = floor(log2 amax)
// + 125, log2f as ggml calls it), so magnitudes past 12 units saturate at the top code; each
// value then takes the code of least |kvalue * d - x|, the first in code order on a tie (the
// smaller magnitude, and +0 over -0). Where ggml's cast to uint8_t is undefined (amax below
// 2^-125, or not finite) the exponent is clamped to [0, 254].
uint8_t mxfp4_code(float x, float d) {
  int best = 0;
  float best_err = std::fabs(static_cast<float>(kMxfp4Values[0]) * d - x);
  for (int i = 1; i < 16; ++i) {
    const float err = std::fabs(static_cast<float>(kMxfp4Values[i]) * d - x);
    if (err < best_err) {
      best = i;
      best_err = err;
    }
  }
  return static_cast<uint8_t>(best);
}

void quant_mxfp4(const float* x, uint8_t* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kQK, y += kMxfp4BlockBytes) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float e = amax > 0.0f ? std::floor(std::log2(amax)) - 2 + 127 : 0.0f;
    y[0] = static_cast<uint8_t>(std::clamp(e, 0.0f, 254.0f));
    const float d = mxfp4_scale(y[0]);
    for (int j = 0; j < kQK / 2; ++j)
      y[1 + j] = static_cast<uint8_t>(mxfp4_code(x[j], d) | mxfp4_code(x[j + kQK / 2], d) << 4);
  }
}

}  // namespace

bool can_quantize(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0:
    case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: case DType::MXFP4:
      return true;
    default:
      return false;
  }
}

void quantize_row(DType t, const float* src, void* dst, int64_t n) {
  const auto& tr = traits(t);
  FARE_CHECK(n >= 0 && n % tr.block_elems == 0, "row of ", n, " values is not a whole number of ", tr.name, " blocks");
  auto* y = static_cast<uint8_t*>(dst);
  const int64_t n_blocks = n / tr.block_elems;
  switch (t) {
    case DType::F32: std::memcpy(y, src, static_cast<size_t>(n) * 4); return;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) store_f16(y + 2 * i, src[i]);
      return;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(y + 2 * i, &h, 2);
      }
      return;
    case DType::Q8_0: return quant_q8_0(src, y, n_blocks);
    case DType::Q4_0: return quant_q4_0(src, y, n_blocks);
    case DType::Q4_K: return quant_q4_k(src, y, n_blocks);
    case DType::Q5_K: return quant_q5_k(src, y, n_blocks);
    case DType::Q6_K: return quant_q6_k(src, y, n_blocks);
    case DType::MXFP4: return quant_mxfp4(src, y, n_blocks);
    default: fail("quantize_row: cannot encode ", tr.name);
  }
}

}  // namespace fare
