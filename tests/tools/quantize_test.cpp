// quantize_row: error bounds per type on random data, exactness where the format allows it, and
// byte-identity with ggml's reference quantizer (the fixture Q8_0/Q4_0 files) on real weights,
// and with bytes ggml's quantize_row_mxfp4_ref wrote for MXFP4.
#include "ops/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <string>
#include <random>
#include <vector>

#include "convert/weight_source.h"
#include "io/gguf.h"
#include "ops/dequant.h"

namespace fare {
namespace {

std::string fixture(const std::string& rel) { return std::string(FARE_FIXTURES_DIR) + "/" + rel; }

std::vector<uint8_t> encode(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(t, static_cast<int64_t>(x.size())));
  quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  return q;
}

std::vector<float> decode(DType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  return y;
}

// Rows of 1024 values that exercise the awkward cases: normal data, a large outlier, blocks that
// are all positive, all negative, constant or zero, and tiny values.
std::vector<std::vector<float>> test_rows() {
  std::mt19937 rng(20240611);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (int kind = 0; kind < 7; ++kind) {
    std::vector<float> r(1024);
    for (size_t i = 0; i < r.size(); ++i) {
      const float z = normal(rng);
      switch (kind) {
        case 0: r[i] = z; break;
        case 1: r[i] = i == 77 ? 40.0f : z * 0.05f; break;
        case 2: r[i] = 3.0f + std::fabs(z); break;
        case 3: r[i] = -0.5f - std::fabs(z); break;
        case 4: r[i] = 0.25f; break;
        case 5: r[i] = i < 512 ? 0.0f : z; break;
        case 6: r[i] = z * 1e-3f; break;
      }
    }
    rows.push_back(r);
  }
  return rows;
}

float max_abs(const float* x, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

float range_of(const float* x, int n) {
  float lo = 0, hi = 0;  // the K-quants' offset covers [min(0, lo), max]
  hi = *std::max_element(x, x + n);
  lo = std::min(0.0f, *std::min_element(x, x + n));
  return hi - lo;
}

// Rounding to the nearest half loses at most half an ulp: 2^-11 relative, or 2^-25 absolute
// below 2^-14 where halves are subnormal.
float f16_half_ulp(float v) { return std::max(std::fabs(v) * 0x1p-11f, 0x1p-25f); }

// Tolerance of value i of a row of type t.
float tolerance(DType t, const std::vector<float>& x, size_t i) {
  const float* row = x.data();
  switch (t) {
    case DType::F16: return f16_half_ulp(x[i]);
    case DType::BF16: return std::fabs(x[i]) * 0x1p-8f;  // half an ulp of 8 significant bits
    case DType::Q8_0: {
      // Half a step (amax/127), plus the step's own f16 rounding times up to 127 steps.
      const float d = max_abs(row + i / 32 * 32, 32) / 127;
      return (0.5f * d + 127 * f16_half_ulp(d)) * 1.001f;
    }
    case DType::Q4_0: {
      // One step (amax/8): the end opposite the largest magnitude stops at +7 steps, not +8.
      const float d = max_abs(row + i / 32 * 32, 32) / 8;
      return (d + 8 * f16_half_ulp(d)) * 1.001f;
    }
    case DType::Q4_K: case DType::Q5_K: {
      // Half the sub-block step, which is at most range/n_max plus what rounding the 6-bit scale
      // and min up adds (< A/20/n_max for a super-block whose largest magnitude is A).
      const float n_max = t == DType::Q4_K ? 15.0f : 31.0f;
      const float a = max_abs(row + i / 256 * 256, 256);
      return 0.5f * (range_of(row + i / 32 * 32, 32) + a / 20) / n_max + 1e-6f * a;
    }
    case DType::Q6_K: {
      // Half the step of 16 values (amax/31), plus the int8 scale rounded up (< A/100/31).
      const float a = max_abs(row + i / 256 * 256, 256);
      return 0.5f * (max_abs(row + i / 16 * 16, 16) + a / 100) / 31 + 1e-6f * a;
    }
    case DType::MXFP4: {
      // ggml's exponent puts amax in [8d, 16d): the widest gap of the grid (8d to 12d) costs up to
      // 2d <= amax / 4, and values past 12d saturate there, at most 16d - 12d = amax / 4 away.
      return max_abs(row + i / 32 * 32, 32) / 4 * 1.000001f;
    }
    default: return 0;
  }
}

class QuantizeBound : public ::testing::TestWithParam<DType> {};

TEST_P(QuantizeBound, ErrorWithinHalfAStep) {
  const DType t = GetParam();
  for (const auto& x : test_rows()) {
    const auto y = decode(t, encode(t, x), x.size());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_LE(std::fabs(y[i] - x[i]), tolerance(t, x, i)) << name(t) << " value " << i << ": " << x[i] << " -> " << y[i];
  }
}

TEST_P(QuantizeBound, ZerosStayZero) {
  const DType t = GetParam();
  const std::vector<float> x(512, 0.0f);
  for (float v : decode(t, encode(t, x), x.size())) ASSERT_EQ(v, 0.0f) << name(t);
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeBound,
                         ::testing::Values(DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_K, DType::Q5_K,
                                           DType::Q6_K, DType::MXFP4),
                         [](const auto& p) { return std::string(name(p.param)); });

// Values a file already holds come back unchanged: decode(quantize(decode(q))) == decode(q).
// True for the plain types and for ggml's Q8_0/Q4_0 rule (their scale is recovered exactly from
// the grid's extreme value) and MXFP4's (a block whose largest code is m gets an exponent with m
// at 8 or 12 units, and every code below is then on the grid); the K-quants re-pick their
// rounded-up scales, so only the bound holds.
TEST(Quantize, DecodedValuesRoundTrip) {
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::MXFP4}) {
    for (const auto& x : test_rows()) {
      const auto y = decode(t, encode(t, x), x.size());
      const auto z = decode(t, encode(t, y), y.size());
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_EQ(std::bit_cast<uint32_t>(z[i]), std::bit_cast<uint32_t>(y[i])) << name(t) << " value " << i;
    }
  }
}

TEST(Quantize, KQuantsAreStableUnderRequantization) {
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    for (const auto& x : test_rows()) {
      const auto y = decode(t, encode(t, x), x.size());
      const auto z = decode(t, encode(t, y), y.size());
      for (size_t i = 0; i < y.size(); ++i) ASSERT_LE(std::fabs(z[i] - y[i]), tolerance(t, y, i)) << name(t) << " value " << i;
    }
  }
}

// MXFP4 blocks of random codes and exponent bytes 10..240 (every largest code, every nibble)
// come back as the same values.
TEST(Quantize, Mxfp4BlocksRoundTrip) {
  std::mt19937 rng(39);
  std::vector<uint8_t> q(17 * 512);
  for (size_t b = 0; b < 512; ++b) {
    q[17 * b] = static_cast<uint8_t>(10 + rng() % 231);
    for (int j = 1; j < 17; ++j) q[17 * b + j] = static_cast<uint8_t>(b < 16 ? (b % 8) * 0x11 : rng());
  }
  const auto y = decode(DType::MXFP4, q, 32 * 512);
  const auto z = decode(DType::MXFP4, encode(DType::MXFP4, y), y.size());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(z[i], y[i]) << "value " << i;
}

// ggml's rule on chosen values (d = 2^-3 for a block whose largest magnitude is in [1, 2)):
// magnitudes past 12d saturate, a tie takes the first code in table order (the smaller
// magnitude; +0 before -0), and exponents below 0 (amax < 2^-125) clamp to 0.
TEST(Quantize, Mxfp4FollowsGgmlsChoices) {
  std::vector<float> x(32, 0.0f);
  const float d = 0.125f;
  const float in[] = {1.9f, -1.9f, 5 * d, -5 * d, 0.5f * d, -0.5f * d, 7 * d, 10 * d, 1.0f, 11 * d};
  const float out[] = {12 * d, -12 * d, 4 * d, -4 * d, 0.0f, 0.0f, 6 * d, 8 * d, 1.0f, 12 * d};
  std::copy(std::begin(in), std::end(in), x.begin());
  const auto q = encode(DType::MXFP4, x);
  EXPECT_EQ(q[0], 125);  // floor(log2 1.9) - 2 + 127
  EXPECT_EQ(q[1 + 4] & 15, 0);  // +0, not -0 (code 8)
  EXPECT_EQ(q[1 + 5] & 15, 0);
  const auto y = decode(DType::MXFP4, q, 32);
  for (size_t i = 0; i < std::size(in); ++i) EXPECT_EQ(y[i], out[i]) << in[i];
  x.assign(32, 0.0f);
  x[4] = 3e38f;  // the largest exponent the rule gives: floor(log2 3e38) + 125 = 252
  EXPECT_EQ(encode(DType::MXFP4, x)[0], 252);
  // amax = 2^-126: the rule gives -1, where ggml's cast to uint8_t is undefined; clamped to 0,
  // whose grid holds 2^-126 = 4 * 2^-128.
  const std::vector<float> tiny(32, 0x1p-126f);
  EXPECT_EQ(encode(DType::MXFP4, tiny)[0], 0);
  EXPECT_EQ(decode(DType::MXFP4, encode(DType::MXFP4, tiny), 32), tiny);
}

// Bytes of ggml's quantize_row_mxfp4_ref (libggml-base of llama.cpp release v0.4.0 / 5b4ebc5,
// called through ctypes) for the blocks below: n / 7 * 2^(b - 4) for blocks 0-5, values on the
// grid with many ties (n / 16) for block 6, large ones (n * 2^100) for block 7, with
// n = (value index * 37) % 101 - 50.
TEST(Quantize, Mxfp4MatchesGgmlBytes) {
  const char* const want[8] = {
      "7b7fec357fc956fea267ed147fdb467fc0", "7c357fd956fea267ed147feb367fc057fe",
      "7dd956feb167fd047feb367fc956fea267", "7efeb167fd047fec357fc956fea267ed14",
      "7f67fd0477ec357fd956fea267ed147feb", "809367ec257fd956feb167fd047feb367f",
      "7eec257fc946fea157ed036fdb257ec946", "e67fda46feb156ed0367db257fc946fea1"};
  std::vector<float> x(256);
  for (int i = 0; i < 256; ++i) {
    const int b = i / 32;
    const float n = static_cast<float>((i * 37) % 101 - 50);
    x[static_cast<size_t>(i)] = b == 6 ? n * 0x1p-4f : b == 7 ? n * 0x1p100f : n / 7.0f * std::ldexp(1.0f, b - 4);
  }
  const auto q = encode(DType::MXFP4, x);
  for (int b = 0; b < 8; ++b) {
    std::string got;
    for (int j = 0; j < 17; ++j) {
      char hex[3];
      std::snprintf(hex, sizeof hex, "%02x", q[static_cast<size_t>(17 * b + j)]);
      got += hex;
    }
    EXPECT_EQ(got, want[b]) << "block " << b;
  }
}

TEST(Quantize, F32CopiesAndRejectsPartialBlocks) {
  const std::vector<float> x = {1.5f, -0.0f, 3e38f};
  EXPECT_EQ(decode(DType::F32, encode(DType::F32, x), 3), x);
  EXPECT_TRUE(can_quantize(DType::Q6_K));
  EXPECT_TRUE(can_quantize(DType::MXFP4));
  EXPECT_FALSE(can_quantize(DType::Q8_K));
  EXPECT_FALSE(can_quantize(DType::F8_E4M3));
}

// The fixture Q8_0 / Q4_0 files were written by ggml's reference quantizer from the BF16
// checkpoint: quantizing the same numbers must give the same bytes.
void expect_fixture_bytes(DType t, const std::string& gguf_rel) {
  const auto src = open_hf_source(fixture("micro-qwen3/hf-bf16"));
  GgufFile ref(fixture(gguf_rel));
  int matrices = 0;
  for (size_t k = 0; k < src->tensors().size(); ++k) {
    const SourceTensor& st = src->tensors()[k];
    const TensorInfo& want = ref.tensors().at(st.name);
    if (st.is_vector()) continue;
    ASSERT_EQ(want.dtype, t) << st.name;
    std::vector<float> x(static_cast<size_t>(st.rows() * st.cols()));
    src->read_rows(k, 0, st.rows(), x.data());
    const auto got = encode(t, x);
    ASSERT_EQ(got.size(), want.nbytes) << st.name;
    ASSERT_TRUE(std::equal(got.begin(), got.end(), want.data)) << st.name << " differs from " << gguf_rel;
    ++matrices;
  }
  EXPECT_EQ(matrices, 15);
}

TEST(Quantize, Q8_0MatchesGgmlOnTheFixture) { expect_fixture_bytes(DType::Q8_0, "micro-qwen3/micro-qwen3-q8_0.gguf"); }
TEST(Quantize, Q4_0MatchesGgmlOnTheFixture) { expect_fixture_bytes(DType::Q4_0, "micro-qwen3/micro-qwen3-q4_0.gguf"); }

}  // namespace
}  // namespace fare
