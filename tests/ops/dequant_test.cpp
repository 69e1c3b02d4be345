// dequantize_row: hand-built blocks with known values for every type, then the real fixture
// weights in every GGUF type against the BF16 checkpoint they were quantized from.
#include "ops/dequant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace fare {
namespace {

// ---------------------------------------------------------------------------------------------
// Hand-built blocks. Expected values are formed in float32 in ggml's order: scale first, then
// times the quant, so they must match bit for bit.

std::string fixture(const std::string& rel) { return std::string(FARE_FIXTURES_DIR) + "/" + rel; }

// Equal as bit patterns (so -0 vs 0 and NaN payloads count), reporting the first difference.
void expect_bits_eq(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
        << "value " << i << ": got " << got[i] << ", want " << want[i];
}

// Decodes `bytes` placed one byte past an aligned address, as rows inside a file often are.
std::vector<float> decode(DType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<uint8_t> buf(bytes.size() + 1);
  std::memcpy(buf.data() + 1, bytes.data(), bytes.size());
  std::vector<float> out(static_cast<size_t>(n), -12345.0f);
  dequantize_row(t, buf.data() + 1, out.data(), n);
  return out;
}

template <typename T>
void put(std::vector<uint8_t>& b, size_t pos, T v) {
  std::memcpy(b.data() + pos, &v, sizeof(T));
}

TEST(Dequant, F32CopiesBits) {
  const std::vector<float> v = {0.0f, -0.0f, 1.5f, -3e38f, 1e-45f, INFINITY, std::bit_cast<float>(0x7fc01234u)};
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  expect_bits_eq(decode(DType::F32, b, static_cast<int64_t>(v.size())), v);
}

TEST(Dequant, F16KnownValues) {
  const std::vector<std::pair<uint16_t, float>> cases = {
      {0x0000, 0.0f},          {0x8000, -0.0f},    {0x0001, 0x1p-24f},      {0x03ff, 1023 * 0x1p-24f},
      {0x0400, 0x1p-14f},      {0x3c00, 1.0f},     {0xc000, -2.0f},         {0x3555, 0x1.554p-2f},
      {0x7bff, 65504.0f},      {0xfbff, -65504.0f}, {0x7c00, INFINITY},      {0xfc00, -INFINITY}};
  std::vector<uint8_t> b(cases.size() * 2);
  std::vector<float> want;
  for (size_t i = 0; i < cases.size(); ++i) {
    put(b, 2 * i, cases[i].first);
    want.push_back(cases[i].second);
  }
  expect_bits_eq(decode(DType::F16, b, static_cast<int64_t>(cases.size())), want);
  EXPECT_TRUE(std::isnan(decode(DType::F16, {0x00, 0x7e}, 1)[0]));
}

TEST(Dequant, BF16KnownValues) {
  const std::vector<std::pair<uint16_t, float>> cases = {
      {0x3f80, 1.0f}, {0xc040, -3.0f}, {0x0001, 0x1p-133f}, {0x7f7f, 0x1.fep127f}, {0xff80, -INFINITY}, {0x8000, -0.0f}};
  std::vector<uint8_t> b(cases.size() * 2);
  std::vector<float> want;
  for (size_t i = 0; i < cases.size(); ++i) {
    put(b, 2 * i, cases[i].first);
    want.push_back(cases[i].second);
  }
  expect_bits_eq(decode(DType::BF16, b, static_cast<int64_t>(cases.size())), want);
}

TEST(Dequant, F8E4M3AllValues) {
  std::vector<uint8_t> b(256);
  for (int i = 0; i < 256; ++i) b[i] = static_cast<uint8_t>(i);
  const auto v = decode(DType::F8_E4M3, b, 256);
  EXPECT_EQ(v[0x00], 0.0f);
  EXPECT_TRUE(std::signbit(v[0x80]));
  EXPECT_EQ(v[0x01], 0x1p-9f);     // smallest subnormal
  EXPECT_EQ(v[0x07], 7 * 0x1p-9f);  // largest subnormal
  EXPECT_EQ(v[0x08], 0x1p-6f);     // smallest normal
  EXPECT_EQ(v[0x38], 1.0f);
  EXPECT_EQ(v[0x3c], 1.5f);
  EXPECT_EQ(v[0x40], 2.0f);
  EXPECT_EQ(v[0x7e], 448.0f);  // e4m3fn has no infinity: this is the maximum
  EXPECT_EQ(v[0xfe], -448.0f);
  EXPECT_TRUE(std::isnan(v[0x7f]));
  EXPECT_TRUE(std::isnan(v[0xff]));
  for (int i = 1; i < 0x7f; ++i) {
    EXPECT_LT(v[i - 1], v[i]) << i;  // codes are ordered like their values
    EXPECT_EQ(v[i + 0x80], -v[i]) << i;
  }
}

// Half-precision scales worth covering: ordinary, negative, subnormal, the largest finite.
const std::vector<uint16_t> kHalfScales = {0x3800, 0xb400, 0x0001, 0x03ff, 0x8123, 0x7bff, 0x2e66, 0x0000};

TEST(Dequant, Q8_0) {
  for (const uint16_t dh : kHalfScales) {
    std::vector<uint8_t> b(2 * 34);
    std::vector<float> want;
    for (int blk = 0; blk < 2; ++blk) {
      const uint16_t bd = blk ? dh : 0x3c00;
      put(b, 34 * blk, bd);
      for (int j = 0; j < 32; ++j) {
        const auto q = static_cast<int8_t>(blk ? j * 8 - 128 : 127 - j);  // covers -128 and 127
        put(b, 34 * blk + 2 + j, q);
        want.push_back(static_cast<float>(q) * f16_to_f32(bd));
      }
    }
    expect_bits_eq(decode(DType::Q8_0, b, 64), want);
  }
  // Known numbers: d = 0.5.
  std::vector<uint8_t> b(34, 0);
  put<uint16_t>(b, 0, 0x3800);
  put<int8_t>(b, 2, -128);
  put<int8_t>(b, 3, 3);
  const auto v = decode(DType::Q8_0, b, 32);
  EXPECT_EQ(v[0], -64.0f);
  EXPECT_EQ(v[1], 1.5f);
  EXPECT_EQ(v[2], 0.0f);
}

TEST(Dequant, Q4_0) {
  for (const uint16_t dh : kHalfScales) {
    std::vector<uint8_t> b(18);
    put(b, 0, dh);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
      const int lo = j, hi = 15 - j;
      b[2 + j] = static_cast<uint8_t>(lo | hi << 4);
      want[j] = static_cast<float>(lo - 8) * f16_to_f32(dh);
      want[j + 16] = static_cast<float>(hi - 8) * f16_to_f32(dh);
    }
    expect_bits_eq(decode(DType::Q4_0, b, 32), want);
  }
  std::vector<uint8_t> b(18, 0x88);  // every nibble 8: zero
  put<uint16_t>(b, 0, 0xc000);        // d = -2
  b[2] = 0xf0;                        // value 0: nibble 0 -> -8*-2 = 16; value 16: nibble 15 -> 7*-2 = -14
  const auto v = decode(DType::Q4_0, b, 32);
  EXPECT_EQ(v[0], 16.0f);
  EXPECT_EQ(v[16], -14.0f);
  EXPECT_EQ(v[1], -0.0f);
}

// Packs eight 6-bit scales and mins into the 12 bytes of Q4_K/Q5_K, inverting the README's
// decoding: j<4 in the low 6 bits of bytes j and j+4; j>=4 split into a low nibble in byte
// j+4 and 2 high bits in the top of bytes j-4 (scale) and j (min).
std::array<uint8_t, 12> pack_scales(const int* sc, const int* m) {
  std::array<uint8_t, 12> s{};
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | (sc[j + 4] >> 4) << 6);
    s[j + 4] = static_cast<uint8_t>(m[j] | (m[j + 4] >> 4) << 6);
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
  }
  return s;
}

uint16_t random_finite_half(std::mt19937& rng) {
  for (;;) {
    const auto h = static_cast<uint16_t>(rng());
    if (((h >> 10) & 31) != 31) return h;
  }
}

// Q4_K and Q5_K blocks from random fields (value q of sub-block j = d*sc[j]*q - dmin*m[j]);
// `bits` = 4 or 5.
void check_kquant_4_5(int bits, uint32_t seed) {
  const DType type = bits == 4 ? DType::Q4_K : DType::Q5_K;
  const size_t bb = bits == 4 ? 144 : 176;
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 200; ++trial) {
    const int n_blocks = 2;
    std::vector<uint8_t> b(bb * n_blocks);
    std::vector<float> want;
    for (int blk = 0; blk < n_blocks; ++blk) {
      uint8_t* x = b.data() + bb * blk;
      // Extreme scales in the first trials: the largest half, subnormals, negative, zero.
      const uint16_t dh = trial < 8 ? kHalfScales[trial] : random_finite_half(rng);
      const uint16_t mh = trial < 8 ? kHalfScales[7 - trial] : random_finite_half(rng);
      std::memcpy(x, &dh, 2);
      std::memcpy(x + 2, &mh, 2);
      int sc[8], m[8];
      for (int j = 0; j < 8; ++j) {
        sc[j] = trial == 0 ? 63 : static_cast<int>(rng() % 64);
        m[j] = trial == 0 ? 63 : static_cast<int>(rng() % 64);
      }
      const auto packed = pack_scales(sc, m);
      std::memcpy(x + 4, packed.data(), 12);
      uint8_t* qh = x + 16;
      uint8_t* qs = x + (bits == 4 ? 16 : 48);
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = static_cast<int>(rng() % (1u << bits));
      for (int e = 0; e < 256; ++e) {
        const int j = e / 32, l = e % 32;  // sub-block j; j = 2c + h shares qs[32c + l]
        const int lo = q[e] & 15;
        qs[32 * (j / 2) + l] |= static_cast<uint8_t>(j % 2 ? lo << 4 : lo);
        if (bits == 5 && (q[e] & 16)) qh[l] |= static_cast<uint8_t>(1u << j);
        const float d = f16_to_f32(dh) * static_cast<float>(sc[j]);
        const float mm = f16_to_f32(mh) * static_cast<float>(m[j]);
        want.push_back(d * static_cast<float>(q[e]) - mm);
      }
    }
    SCOPED_TRACE(trial);
    expect_bits_eq(decode(type, b, 256 * n_blocks), want);
  }
}

TEST(Dequant, Q4_K) {
  check_kquant_4_5(4, 1);
  // Known numbers: d = 1, dmin = 0.5; sub-block 0 has scale 2, min 4; sub-block 7 scale 63
  // (from the split high bits), min 33; the first value of each is q = 15.
  std::vector<uint8_t> b(144, 0);
  put<uint16_t>(b, 0, 0x3c00);
  put<uint16_t>(b, 2, 0x3800);
  int sc[8] = {2, 0, 0, 0, 0, 0, 0, 63}, m[8] = {4, 0, 0, 0, 0, 0, 0, 33};
  const auto s = pack_scales(sc, m);
  std::memcpy(b.data() + 4, s.data(), 12);
  b[16] = 0x0f;       // value 0 (sub-block 0) = 15
  b[16 + 96] = 0xf0;  // value 224 (sub-block 7) = 15
  const auto v = decode(DType::Q4_K, b, 256);
  EXPECT_EQ(v[0], 2.0f * 15 - 0.5f * 4);
  EXPECT_EQ(v[1], -2.0f);
  EXPECT_EQ(v[224], 63.0f * 15 - 0.5f * 33);
  EXPECT_EQ(v[225], -16.5f);
}

TEST(Dequant, Q5_K) {
  check_kquant_4_5(5, 2);
  // Known numbers: d = 1, dmin = 0, scales 1: the value is q, and a qh bit adds 16.
  std::vector<uint8_t> b(176, 0);
  put<uint16_t>(b, 0, 0x3c00);
  int sc[8] = {1, 1, 1, 1, 1, 1, 1, 1}, m[8] = {};
  const auto s = pack_scales(sc, m);
  std::memcpy(b.data() + 4, s.data(), 12);
  b[16 + 3] = 0x80;   // qh[3] bit 7: value 3 of sub-block 7 (value 227) gets +16
  b[48 + 96 + 3] = 0xa5;  // qs[99]: value 195 (sub-block 6) = 5, value 227 (sub-block 7) = 10
  const auto v = decode(DType::Q5_K, b, 256);
  EXPECT_EQ(v[195], 5.0f);
  EXPECT_EQ(v[227], 26.0f);
  EXPECT_EQ(v[3], 0.0f);
}

// Places the 6-bit q of value e the way the README describes Q6_K.
void put_q6(uint8_t* ql, uint8_t* qh, int e, int q) {
  const int n = e / 128, g = (e % 128) / 32, l = e % 32;
  uint8_t& low = ql[64 * n + (g % 2 ? 32 : 0) + l];
  low |= static_cast<uint8_t>(g < 2 ? (q & 15) : (q & 15) << 4);
  qh[32 * n + l] |= static_cast<uint8_t>((q >> 4) << (2 * g));
}

TEST(Dequant, Q6_K) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint8_t> b(2 * 210);
    std::vector<float> want;
    for (int blk = 0; blk < 2; ++blk) {
      uint8_t* x = b.data() + 210 * blk;
      const uint16_t dh = trial < 8 ? kHalfScales[trial] : random_finite_half(rng);
      std::memcpy(x + 208, &dh, 2);
      int8_t sc[16];
      for (int k = 0; k < 16; ++k) sc[k] = trial == 0 ? (k % 2 ? -128 : 127) : static_cast<int8_t>(rng());
      std::memcpy(x + 192, sc, 16);
      for (int e = 0; e < 256; ++e) {
        const int q = trial == 1 ? (e % 2 ? 0 : 63) : static_cast<int>(rng() % 64);
        put_q6(x, x + 128, e, q);
        want.push_back(f16_to_f32(dh) * static_cast<float>(sc[e / 16]) * static_cast<float>(q - 32));
      }
    }
    SCOPED_TRACE(trial);
    expect_bits_eq(decode(DType::Q6_K, b, 512), want);
  }
  // Known numbers: d = 0.25, scale of values 16..31 = -3; value 17 has q = 63 -> 0.25*-3*31.
  std::vector<uint8_t> b(210, 0);
  put<uint16_t>(b, 208, 0x3400);
  put<int8_t>(b, 192 + 1, -3);
  put_q6(b.data(), b.data() + 128, 17, 63);
  const auto v = decode(DType::Q6_K, b, 256);
  EXPECT_EQ(v[17], 0.25f * -3 * 31);
  EXPECT_EQ(v[16], 24.0f);  // q = 0 decodes as -32: 0.25 * -3 * -32
  EXPECT_EQ(v[0], 0.0f);    // scale 0
}

TEST(Dequant, Q8_K) {
  const std::vector<float> scales = {1.0f, -0.001f, 1e30f, 1e-40f, 0.0f};
  for (const float d : scales) {
    std::vector<uint8_t> b(292);
    put(b, 0, d);
    std::vector<float> want;
    for (int j = 0; j < 256; ++j) {
      const auto q = static_cast<int8_t>(j - 128);
      put(b, 4 + j, q);
      want.push_back(d * static_cast<float>(q));
    }
    for (int k = 0; k < 16; ++k) put<int16_t>(b, 260 + 2 * k, static_cast<int16_t>(-1));  // sums: ignored
    expect_bits_eq(decode(DType::Q8_K, b, 256), want);
  }
}

// MXFP4: value j of a block is the low nibble of qs[j], value j + 16 the high nibble; a nibble's
// value is kvalue * 2^(e - 128) (e2m1 doubled, scale halved), as ggml's decoder computes it.
constexpr int8_t kMx[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// One block with exponent byte e whose low nibbles are 0..15 and high nibbles 15..0.
std::vector<uint8_t> mxfp4_every_nibble(uint8_t e) {
  std::vector<uint8_t> b(17);
  b[0] = e;
  for (int j = 0; j < 16; ++j) b[1 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
  return b;
}

TEST(Dequant, Mxfp4EveryNibbleAndExponent) {
  for (int e = 0; e < 256; ++e) {
    SCOPED_TRACE(e);
    // 2^(e - 128) as a float, the subnormals 2^-128 and 2^-127 included; products past the
    // largest float are infinities (e = 254 and 255 with large codes), as in ggml.
    const float d = std::ldexp(1.0f, e - 128);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
      want[j] = static_cast<float>(kMx[j]) * d;
      want[j + 16] = static_cast<float>(kMx[15 - j]) * d;
    }
    expect_bits_eq(decode(DType::MXFP4, mxfp4_every_nibble(static_cast<uint8_t>(e)), 32), want);
  }
}

TEST(Dequant, Mxfp4KnownValues) {
  // e = 127: the e2m1 values themselves, 0.5 .. 6; code 8 (-0) decodes as +0.
  auto v = decode(DType::MXFP4, mxfp4_every_nibble(127), 32);
  EXPECT_EQ(v[1], 0.5f);
  EXPECT_EQ(v[3], 1.5f);
  EXPECT_EQ(v[7], 6.0f);
  EXPECT_EQ(std::bit_cast<uint32_t>(v[8]), 0u);
  EXPECT_EQ(v[9], -0.5f);
  EXPECT_EQ(v[15], -6.0f);
  EXPECT_EQ(v[16], -6.0f);  // value 16: high nibble of qs[0] = 15
  EXPECT_EQ(v[31], 0.0f);
  v = decode(DType::MXFP4, mxfp4_every_nibble(128), 32);
  EXPECT_EQ(v[7], 12.0f);
  // The exponent bytes below 2 scale by subnormals; 254 and 255 are finite scales (no NaN).
  v = decode(DType::MXFP4, mxfp4_every_nibble(0), 32);
  EXPECT_EQ(v[1], 0x1p-128f);
  EXPECT_EQ(v[7], 0x1.8p-125f);
  EXPECT_EQ(decode(DType::MXFP4, mxfp4_every_nibble(1), 32)[1], 0x1p-127f);
  EXPECT_EQ(decode(DType::MXFP4, mxfp4_every_nibble(2), 32)[1], 0x1p-126f);
  v = decode(DType::MXFP4, mxfp4_every_nibble(254), 32);
  EXPECT_EQ(v[3], 0x1.8p127f);
  EXPECT_EQ(v[4], INFINITY);
  v = decode(DType::MXFP4, mxfp4_every_nibble(255), 32);
  EXPECT_EQ(v[1], 0x1p127f);
  EXPECT_EQ(v[9], -0x1p127f);
  EXPECT_EQ(v[2], INFINITY);
  EXPECT_EQ(v[10], -INFINITY);
  // Two blocks in a row: the second starts 17 bytes in.
  auto two = mxfp4_every_nibble(126);
  const auto second = mxfp4_every_nibble(130);
  two.insert(two.end(), second.begin(), second.end());
  v = decode(DType::MXFP4, two, 64);
  EXPECT_EQ(v[7], 3.0f);
  EXPECT_EQ(v[32 + 7], 48.0f);
  EXPECT_EQ(v[32 + 16], -48.0f);
}

TEST(Dequant, EmptyRowAndNonWeightType) {
  dequantize_row(DType::Q4_K, nullptr, nullptr, 0);
  float out = 0;
  const int32_t x = 1;
  EXPECT_THROW(dequantize_row(DType::I32, &x, &out, 1), Error);
}

// ---------------------------------------------------------------------------------------------
// Real weights: every GGUF of micro-qwen3 decodes to the BF16 checkpoint within the precision
// of its own blocks.

// GGUF tensor name -> Hugging Face name (Q/K are stored unpermuted).
std::string hf_name(const std::string& g) {
  if (g == "token_embd.weight") return "model.embed_tokens.weight";
  if (g == "output_norm.weight") return "model.norm.weight";
  if (g == "output.weight") return "lm_head.weight";
  static const std::map<std::string, std::string> kParts = {
      {"attn_q", "self_attn.q_proj"},       {"attn_k", "self_attn.k_proj"},       {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},  {"ffn_gate", "mlp.gate_proj"},        {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},        {"attn_norm", "input_layernorm"},     {"ffn_norm", "post_attention_layernorm"},
      {"attn_q_norm", "self_attn.q_norm"},  {"attn_k_norm", "self_attn.k_norm"}};
  const auto dot1 = g.find('.', 4), dot2 = g.rfind('.');
  if (!g.starts_with("blk.") || dot1 == std::string::npos || dot2 <= dot1) return "?" + g;
  const auto part = kParts.find(g.substr(dot1 + 1, dot2 - dot1 - 1));
  if (part == kParts.end()) return "?" + g;
  return "model.layers." + g.substr(4, dot1 - 4) + "." + part->second + ".weight";
}

// The reference numbers, decoded without dequantize_row.
std::vector<float> bf16_values(const TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) {
    uint16_t h;
    std::memcpy(&h, t.data + 2 * i, 2);
    v[i] = bf16_to_f32(h);
  }
  return v;
}

std::vector<float> decode_tensor(const TensorInfo& t) {
  const int64_t cols = t.shape.back(), rows = t.numel() / cols;
  const size_t rb = row_bytes(t.dtype, cols);
  std::vector<float> out(static_cast<size_t>(t.numel()));
  for (int64_t r = 0; r < rows; ++r) dequantize_row(t.dtype, t.data + r * rb, out.data() + r * cols, cols);
  return out;
}

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// The 6-bit scale (or min, with `min` set) of sub-block j of a Q4_K/Q5_K block (fixture README).
int k4_scale(const uint8_t* s, int j, bool min) {
  const int o = min ? 4 : 0;
  if (j < 4) return s[j + o] & 63;
  return min ? (s[j + 4] >> 4) | ((s[j] >> 6) << 4) : (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
}

// f16 scales carry a relative rounding error of at most 2^-11; quantizers that pick q with the
// unrounded scale see it multiplied by |q|. Bounds below allow 2^-10 per unit of |q|.
constexpr double kHalfRel = 0x1p-10;

// The stored quant of value e (0..255) of a K-quant block, as the fixture README lays it out.
int k_quant(DType t, const uint8_t* x, int e) {
  const int j = e / 32, l = e % 32;
  if (t == DType::Q4_K || t == DType::Q5_K) {
    const uint8_t* qs = x + (t == DType::Q4_K ? 16 : 48);
    int q = j % 2 ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 15;
    if (t == DType::Q5_K && ((x[16 + l] >> j) & 1)) q += 16;
    return q;
  }
  const int n = e / 128, g = (e % 128) / 32;  // Q6_K
  const uint8_t low = x[64 * n + (g % 2 ? 32 : 0) + l];
  return (g < 2 ? low & 15 : low >> 4) | ((x[128 + 32 * n + l] >> (2 * g)) & 3) << 4;
}

// Largest |w - v| the quantizer can leave at value e of a block starting at `x`.
double error_bound(DType t, const uint8_t* x, int e) {
  switch (t) {
    case DType::Q8_0:
      // ggml's reference: q = round(w / d), |q| <= 127: half a step, plus 127 times d's f16 error.
      return std::fabs(half_at(x)) * (0.5 + 127 * kHalfRel);
    case DType::Q4_0: {
      // ggml's reference: d = -max/8, q = min(15, (int)(w/d + 8.5)). The clamp at 15 (the end
      // opposite the block's extreme value, at w/d up to 8) costs up to one full step.
      const int nib = e < 16 ? x[2 + e] & 15 : x[2 + e - 16] >> 4;
      return std::fabs(half_at(x)) * ((nib == 15 ? 1.0 : 0.5) + 8 * kHalfRel);
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      // The fixture's min/max quantizer picks the nearest point of the decoded grid
      // -dmin*m + d*sc*q: half a step inside. At the grid ends (q = 0 or qmax) the value may lie
      // beyond the end, which the 6-bit rounding of m and sc moves by up to half a unit of dmin
      // and qmax halves of d, plus the f16 rounding of d and dmin.
      const int j = e / 32, q = k_quant(t, x, e), qmax = t == DType::Q4_K ? 15 : 31;
      const double d = std::fabs(half_at(x)), dmin = std::fabs(half_at(x + 2));
      const double step = d * k4_scale(x + 4, j, false);
      if (q != 0 && q != qmax) return 0.5 * step;
      return 0.5 * step + 0.5 * dmin + 0.5 * qmax * d + kHalfRel * (63 * dmin + qmax * step);
    }
    case DType::Q6_K: {
      // value = d*sc*(q-32), with q nearest on the decoded grid: half a step inside. The
      // sub-block extreme maps to q = 0 (-32 steps); sc = round(scale/d) misses the exact scale
      // by up to 0.5 d plus d's f16 rounding times |sc| <= 127 (under 0.6 d), so that end moves by
      // up to 32 * 0.6 d < 20 d. A value of the opposite sign as large as the extreme clamps at
      // q = 63 (+31 steps): up to one full step more.
      const int q = k_quant(t, x, e);
      const double d = std::fabs(half_at(x + 208));
      const double step = d * std::abs(static_cast<int8_t>(x[192 + e / 16]));
      if (q == 63) return step + 20 * d;
      if (q == 0) return 0.5 * step + 20 * d;
      return 0.5 * step;
    }
    default:
      return 0;  // plain types must be exact
  }
}

struct Compared {
  double worst_ratio = 0;  // largest error / bound seen
  int64_t n = 0;
};

// Compares every value of GGUF tensor `g` with the BF16 reference `ref`.
Compared compare_tensor(const TensorInfo& g, const std::vector<float>& ref) {
  const auto got = decode_tensor(g);
  const auto& tr = traits(g.dtype);
  Compared c;
  for (size_t i = 0; i < got.size(); ++i) {
    const uint8_t* block = g.data + (i / tr.block_elems) * tr.block_bytes;
    const double bound = error_bound(g.dtype, block, static_cast<int>(i % tr.block_elems));
    const double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
    // The slack covers the float32 rounding of the decode itself (2^-24 relative).
    if (!(err <= bound + 1e-6 * (std::fabs(ref[i]) + bound))) {
      ADD_FAILURE() << g.name << " value " << i << ": decoded " << got[i] << ", reference " << ref[i] << ", error "
                    << err << " > bound " << bound;
      return c;
    }
    if (bound > 0) c.worst_ratio = std::max(c.worst_ratio, err / bound);
    ++c.n;
  }
  return c;
}

class DequantFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(DequantFixture, MatchesBf16Checkpoint) {
  static const SafetensorsFile ref(fixture("micro-qwen3/hf-bf16/model.safetensors"));
  const GgufFile f(fixture("micro-qwen3/" + GetParam()));
  double worst = 0;
  int64_t n = 0;
  for (const auto& [name, t] : f.tensors()) {
    SCOPED_TRACE(name);
    const auto it = ref.tensors().find(hf_name(name));
    ASSERT_NE(it, ref.tensors().end()) << hf_name(name);
    ASSERT_EQ(t.shape, it->second.shape);
    const auto c = compare_tensor(t, bf16_values(it->second));
    worst = std::max(worst, c.worst_ratio);
    n += c.n;
  }
  int64_t n_ref = 0;
  for (const auto& [name, t] : ref.tensors()) n_ref += t.numel();
  EXPECT_EQ(n, n_ref);  // every value of the model was compared
  std::printf("%s: worst error / bound = %.3f\n", GetParam().c_str(), worst);
}

INSTANTIATE_TEST_SUITE_P(MicroQwen3, DequantFixture,
                         ::testing::Values("micro-qwen3-f16.gguf", "micro-qwen3-bf16.gguf", "micro-qwen3-q8_0.gguf",
                                           "micro-qwen3-q4_0.gguf", "micro-qwen3-q4_k.gguf", "micro-qwen3-q5_k.gguf",
                                           "micro-qwen3-q6_k.gguf", "micro-qwen3-q4_k_m.gguf"),
                         [](const auto& p) {  // "micro-qwen3-q4_k.gguf" -> "q4_k"
                           return p.param.substr(12, p.param.size() - 17);
                         });

// Qwen FP8: weight = e4m3 * weight_scale_inv[i / 128][j / 128].
TEST(DequantFp8, WithinE4M3PrecisionOfBf16) {
  const SafetensorsFile ref(fixture("micro-qwen3/hf-bf16/model.safetensors"));
  const SafetensorsFile fp8(fixture("micro-qwen3/hf-fp8/model.safetensors"));
  int n_fp8 = 0;
  for (const auto& [name, t] : fp8.tensors()) {
    SCOPED_TRACE(name);
    if (name.ends_with("_scale_inv")) continue;
    const auto& r = ref.tensors().at(name);
    ASSERT_EQ(t.shape, r.shape);
    const auto want = bf16_values(r);
    if (t.dtype == DType::BF16) {  // embeddings and norms stay BF16
      EXPECT_EQ(bf16_values(t), want);
      continue;
    }
    ASSERT_EQ(t.dtype, DType::F8_E4M3);
    ++n_fp8;
    const auto& s = fp8.tensors().at(name + "_scale_inv");
    const int64_t rows = t.shape[0], cols = t.shape[1];
    const int64_t scols = (cols + 127) / 128;
    ASSERT_EQ(s.shape, (std::vector<int64_t>{(rows + 127) / 128, scols}));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t i = 0; i < rows; ++i) {
      dequantize_row(DType::F8_E4M3, t.data + i * cols, row.data(), cols);
      for (int64_t j = 0; j < cols; ++j) {
        float scale;
        std::memcpy(&scale, s.data + 4 * ((i / 128) * scols + j / 128), 4);
        const float v = row[j] * scale;
        const double w = want[i * cols + j];
        // e4m3 keeps 3 mantissa bits: rounding w/scale costs at most 2^-4 relative for normal
        // values and half the subnormal spacing, 2^-10, below 2^-6; the float product adds 2^-24.
        const double bound = std::max(std::fabs(w) * 0x1p-4, scale * 0x1p-10) * (1 + 0x1p-20);
        ASSERT_LE(std::fabs(v - w), bound) << "value [" << i << ", " << j << "]: " << v << " vs " << w;
      }
    }
  }
  EXPECT_EQ(n_fp8, 14);
}

}  // namespace
}  // namespace fare
