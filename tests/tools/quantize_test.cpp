// quantize_row: error bounds per type on random data, exactness where the format allows it, and
// byte-identity with ggml's reference quantizer (the fixture Q8_0/Q4_0 files) on real weights.
#include "ops/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
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
                                           DType::Q6_K),
                         [](const auto& p) { return std::string(name(p.param)); });

// Values a file already holds come back unchanged: decode(quantize(decode(q))) == decode(q).
// True for the plain types and for ggml's Q8_0/Q4_0 rule (their scale is recovered exactly from
// the grid's extreme value); the K-quants re-pick their rounded-up scales, so only the bound holds.
TEST(Quantize, DecodedValuesRoundTrip) {
  for (DType t : {DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
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

TEST(Quantize, F32CopiesAndRejectsPartialBlocks) {
  const std::vector<float> x = {1.5f, -0.0f, 3e38f};
  EXPECT_EQ(decode(DType::F32, encode(DType::F32, x), 3), x);
  EXPECT_TRUE(can_quantize(DType::Q6_K));
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
