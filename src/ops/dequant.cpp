#include "ops/dequant.h"

#include <cstring>

#include "common/error.h"
#include "common/half.h"
#include "ops/mxfp4.h"

// Block layouts follow ggml's format. Products are formed in float32 in the same order as
// ggml's dequantize_row_* (scale first, then times the quant), so the results match bit for bit.
// FMA contraction cannot change them: in `d1 * q - m1` the product of an f16 scale times a
// 6-bit sub-scale times a quant of at most 5 bits needs 22 significant bits, so it is exact.

namespace fare {

namespace {

constexpr int kQK = 32;    // values per Q8_0 / Q4_0 block
constexpr int kQKK = 256;  // values per K-quant super-block

// Blocks are packed without padding, so multi-byte fields may be unaligned.
inline float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

inline float load_f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

void dequant_f32(const uint8_t* x, float* y, int64_t n) { std::memcpy(y, x, static_cast<size_t>(n) * 4); }

void dequant_f16(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = load_f16(x + 2 * i);
}

void dequant_bf16(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, x + 2 * i, 2);
    y[i] = bf16_to_f32(h);
  }
}

void dequant_f8_e4m3(const uint8_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f8e4m3_to_f32(x[i]);
}

// Q8_0 (34 bytes): f16 d, int8 qs[32]; v = d * q.
void dequant_q8_0(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 34, y += kQK) {
    const float d = load_f16(x);
    const auto* qs = reinterpret_cast<const int8_t*>(x + 2);
    for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(qs[j]) * d;
  }
}

// Q4_0 (18 bytes): f16 d, 16 bytes of nibbles; low nibbles are values 0..15, high ones 16..31.
void dequant_q4_0(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 18, y += kQK) {
    const float d = load_f16(x);
    const uint8_t* qs = x + 2;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>((qs[j] & 0x0f) - 8) * d;
      y[j + kQK / 2] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
  }
}

// The 6-bit scale and min of sub-block j from the 12 packed bytes shared by Q4_K and Q5_K:
// bytes 0-3 hold scales 0-3 and bytes 4-7 mins 0-3 in their low 6 bits; sub-blocks 4-7 take
// their low 4 bits from bytes 8-11 and their top 2 bits from the spare top bits of bytes 0-7.
inline void scale_min_k4(int j, const uint8_t* s, uint8_t& sc, uint8_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = static_cast<uint8_t>((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

// Q4_K (144 bytes): f16 d, f16 dmin, scales[12], qs[128]. Sub-blocks 2c and 2c+1 (32 values
// each) share qs[32c..32c+31], low and high nibble; value = d*sc*q - dmin*m.
void dequant_q4_k(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 144) {
    const float d = load_f16(x);
    const float dmin = load_f16(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* q = x + 16;
    for (int c = 0; c < 4; ++c, q += 32) {
      uint8_t sc, m;
      scale_min_k4(2 * c, scales, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      scale_min_k4(2 * c + 1, scales, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

// Q5_K (176 bytes): as Q4_K with qh[32] before qs: value l of sub-block k gets +16 when bit k
// of qh[l] is set.
void dequant_q5_k(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 176) {
    const float d = load_f16(x);
    const float dmin = load_f16(x + 2);
    const uint8_t* scales = x + 4;
    const uint8_t* qh = x + 16;
    const uint8_t* ql = x + 48;
    for (int c = 0; c < 4; ++c, ql += 32) {
      uint8_t sc, m;
      scale_min_k4(2 * c, scales, sc, m);
      const float d1 = d * sc, m1 = dmin * m;
      scale_min_k4(2 * c + 1, scales, sc, m);
      const float d2 = d * sc, m2 = dmin * m;
      const uint8_t bit_lo = static_cast<uint8_t>(1u << (2 * c)), bit_hi = static_cast<uint8_t>(2u << (2 * c));
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0x0f) + (qh[l] & bit_lo ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & bit_hi ? 16 : 0)) - m2;
    }
  }
}

// Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], f16 d. Each half of 128 values uses 64
// bytes of ql (low nibbles of groups 0/1, high nibbles of groups 2/3) and 32 of qh (2 bits per
// group); value = d*scale*(q - 32) with one scale per 16 values.
void dequant_q6_k(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 210) {
    const uint8_t* ql = x;
    const uint8_t* qh = x + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(x + 192);
    const float d = load_f16(x + 208);
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8, y += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

// Q8_K (292 bytes): f32 d, int8 qs[256], int16 bsums[16] (sums for dot products; not needed here).
void dequant_q8_k(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += 292, y += kQKK) {
    const float d = load_f32(x);
    const auto* qs = reinterpret_cast<const int8_t*>(x + 4);
    for (int j = 0; j < kQKK; ++j) y[j] = d * static_cast<float>(qs[j]);
  }
}

// MXFP4 (17 bytes): e8m0 e, 16 bytes of nibbles laid out as Q4_0's; v = kvalue * 2^(e - 128),
// one product like ggml's, exact (ops/mxfp4.h).
void dequant_mxfp4(const uint8_t* x, float* y, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b, x += kMxfp4BlockBytes, y += kQK) {
    const float d = mxfp4_scale(x[0]);
    const uint8_t* qs = x + 1;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = static_cast<float>(kMxfp4Values[qs[j] & 0x0f]) * d;
      y[j + kQK / 2] = static_cast<float>(kMxfp4Values[qs[j] >> 4]) * d;
    }
  }
}

}  // namespace

void dequantize_row(DType t, const void* src, float* dst, int64_t n) {
  const auto& tr = traits(t);
  FARE_CHECK(n >= 0 && n % tr.block_elems == 0, "row of ", n, " values is not a whole number of ", tr.name, " blocks");
  const auto* x = static_cast<const uint8_t*>(src);
  const int64_t n_blocks = n / tr.block_elems;
  switch (t) {
    case DType::F32: return dequant_f32(x, dst, n);
    case DType::F16: return dequant_f16(x, dst, n);
    case DType::BF16: return dequant_bf16(x, dst, n);
    case DType::F8_E4M3: return dequant_f8_e4m3(x, dst, n);
    case DType::Q8_0: return dequant_q8_0(x, dst, n_blocks);
    case DType::Q4_0: return dequant_q4_0(x, dst, n_blocks);
    case DType::Q4_K: return dequant_q4_k(x, dst, n_blocks);
    case DType::Q5_K: return dequant_q5_k(x, dst, n_blocks);
    case DType::Q6_K: return dequant_q6_k(x, dst, n_blocks);
    case DType::Q8_K: return dequant_q8_k(x, dst, n_blocks);
    case DType::MXFP4: return dequant_mxfp4(x, dst, n_blocks);
    default: fail("dequantize_row: ", tr.name, " is not a weight type that decodes to float");
  }
}

}  // namespace fare
