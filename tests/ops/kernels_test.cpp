// The plain kernels against float64 arithmetic written out the long way.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "common/half.h"
#include "common/thread_pool.h"
#include "ops/attention.h"
#include "ops/kernels.h"
#include "ops/math.h"
#include "ops/matmul.h"
#include "support/kernel_set_params.h"
#include "support/random.h"

namespace fare {
namespace {

using test::randn;

struct MatmulCase {
  int64_t rows, cols, tokens;
  int threads;
};

class MatmulTest : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(MatmulTest, F32AndBF16MatchFloat64) {
  const auto c = GetParam();
  ThreadPool pool(c.threads);
  const auto w = randn(static_cast<size_t>(c.rows * c.cols), 1);
  const auto x = randn(static_cast<size_t>(c.tokens * c.cols), 2);
  std::vector<uint16_t> wb(w.size());
  for (size_t i = 0; i < w.size(); ++i) wb[i] = f32_to_bf16(w[i]);
  for (DType t : {DType::F32, DType::BF16}) {
    WeightMatrix m{t, c.rows, c.cols, t == DType::F32 ? reinterpret_cast<const uint8_t*>(w.data()) : reinterpret_cast<const uint8_t*>(wb.data()),
                   static_cast<size_t>(c.cols) * (t == DType::F32 ? 4 : 2)};
    std::vector<float> y(static_cast<size_t>(c.tokens * c.rows));
    matmul_reference(m, x.data(), c.tokens, y.data(), pool);
    for (int64_t tk = 0; tk < c.tokens; ++tk)
      for (int64_t r = 0; r < c.rows; ++r) {
        double want = 0;
        for (int64_t k = 0; k < c.cols; ++k) {
          const double wv = t == DType::F32 ? w[r * c.cols + k] : bf16_to_f32(wb[r * c.cols + k]);
          want += wv * x[tk * c.cols + k];
        }
        // float32 accumulation over `cols` terms of unit variance: error ~ 1e-7 * sqrt(cols) * |terms|.
        ASSERT_NEAR(y[tk * c.rows + r], want, 2e-5 * std::sqrt(static_cast<double>(c.cols)) * 4)
            << name(t) << " row " << r << " token " << tk;
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulTest,
                         ::testing::Values(MatmulCase{1, 1, 1, 1}, MatmulCase{7, 13, 3, 2}, MatmulCase{33, 64, 1, 2},
                                           MatmulCase{128, 257, 5, 2}, MatmulCase{300, 96, 17, 3}));

TEST(Fp8Matrix, BlockScalesApplyPer128x128Block) {
  // 130 x 260: three column blocks and two row blocks, the last ones partial.
  const int64_t rows = 130, cols = 260;
  std::vector<uint8_t> q(static_cast<size_t>(rows * cols), 0x38);  // e4m3 0x38 = 1.0
  const std::vector<float> scales = {1, 2, 3, 4, 5, 6};
  WeightMatrix m{DType::F8_E4M3, rows, cols, q.data(), static_cast<size_t>(cols), scales.data(), 3};
  std::vector<float> row(cols);
  dequantize_matrix_row(m, 129, row.data());
  EXPECT_EQ(row[0], 4.0f);
  EXPECT_EQ(row[128], 5.0f);
  EXPECT_EQ(row[259], 6.0f);
  dequantize_matrix_row(m, 0, row.data());
  EXPECT_EQ(row[127], 1.0f);
  EXPECT_EQ(row[256], 3.0f);
}

TEST(Math, RmsNormMatchesDefinition) {
  const auto x = randn(257, 3), w = randn(257, 4);
  std::vector<float> out(257);
  rms_norm(x.data(), w.data(), 257, 1e-6f, out.data());
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double s = 1.0 / std::sqrt(ss / 257 + 1e-6);
  for (int i = 0; i < 257; ++i) ASSERT_NEAR(out[i], x[i] * s * w[i], 1e-5);  // float32 rounding of O(1) values
}

TEST(Math, RopeRotatesHalvesByPositionTimesFrequency) {
  const int64_t d = 8;
  std::vector<float> cs(d), head = {1, 2, 3, 4, 5, 6, 7, 8};
  const auto orig = head;
  rope_cos_sin(1000, d, 1e6, cs.data());
  rope_neox(head.data(), d, cs.data());
  for (int64_t i = 0; i < d / 2; ++i) {
    const double a = 1000.0 * std::pow(1e6, -2.0 * i / d);
    EXPECT_NEAR(head[i], orig[i] * std::cos(a) - orig[i + d / 2] * std::sin(a), 1e-5);
    EXPECT_NEAR(head[i + d / 2], orig[i + d / 2] * std::cos(a) + orig[i] * std::sin(a), 1e-5);
  }
  rope_cos_sin(0, d, 1e6, cs.data());
  head = orig;
  rope_neox(head.data(), d, cs.data());
  EXPECT_EQ(head, orig);  // position 0 is the identity
}

TEST(Math, SoftmaxAndSwiglu) {
  std::vector<float> x = {1, 2, 3, 1000};
  softmax(x.data(), 4);  // the max is subtracted first: no overflow
  EXPECT_NEAR(x[3], 1.0f, 1e-6);
  std::vector<float> g = {-2, 0, 3}, u = {1, 5, 2}, o(3);
  swiglu(g.data(), u.data(), 3, o.data());
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(o[i], g[i] / (1 + std::exp(-double(g[i]))) * u[i], 1e-6);
}

// Every set's SwiGLU (the reference: the C library's expf) against float64, over lengths with
// every tail of 8 and 16 lanes and gates out to where e^-gate overflows a float.
class SwigluSets : public ::testing::TestWithParam<std::string> {};

TEST_P(SwigluSets, MatchesFloat64) {
  KernelSetInfo info{};
  const KernelSet* set = test::find_kernel_set(GetParam(), &info);
  ASSERT_NE(set, nullptr);
  if (!info.supported) GTEST_SKIP() << "this CPU lacks " << info.needs;
  const SwigluFn fn = set->swiglu != nullptr ? set->swiglu : &swiglu;
  const std::vector<float> edges = {-1000, -100, -88.5f, -87.5f, -20, -1e-3f, 0, 1e-30f, 20, 87, 100, 1000};
  uint32_t seed = 40;
  for (int64_t n = 1; n <= 70; ++n) {
    std::vector<float> g = randn(static_cast<size_t>(n), seed++), u = randn(static_cast<size_t>(n), seed++);
    for (int64_t i = 0; i < n; ++i) {
      g[static_cast<size_t>(i)] *= 6.0f;
      if (i % 5 == 0) g[static_cast<size_t>(i)] = edges[static_cast<size_t>((i / 5 + n) % edges.size())];
    }
    std::vector<float> out = g;  // in place, as the forward pass calls it
    fn(out.data(), u.data(), n, out.data());
    for (int64_t i = 0; i < n; ++i) {
      const double gi = g[static_cast<size_t>(i)], ref = gi / (1.0 + std::exp(-gi)) * u[static_cast<size_t>(i)];
      // 10 float ulps of the result (e^x within 2 ulp, then a sum, a quotient and a product), and
      // where e^-gate saturates at e^88 (gate below -88) |gate x up| / e^88 instead of 0.
      const double floor = 1e-38 * std::fabs(gi * u[static_cast<size_t>(i)]);
      EXPECT_NEAR(out[static_cast<size_t>(i)], ref, 6e-7 * std::fabs(ref) + floor) << "gate " << gi << " n " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSets, SwigluSets, ::testing::ValuesIn(test::kernel_set_names()),
                         [](const auto& p) { return test::test_name(p.param); });

TEST(Attention, GroupedCausalMatchesNaive) {
  const AttentionShape s{4, 2, 16};
  const int64_t pos0 = 3, n = 5, ctx = pos0 + n, kvw = s.n_head_kv * s.head_dim;
  const auto q = randn(static_cast<size_t>(n * s.n_head * s.head_dim), 5);
  const auto k = randn(static_cast<size_t>(ctx * kvw), 6), v = randn(static_cast<size_t>(ctx * kvw), 7);
  std::vector<float> out(q.size());
  ThreadPool pool(2);
  // One block holding every position: K rows, then V rows, each row all heads side by side.
  std::vector<float> kv_block(k);
  kv_block.insert(kv_block.end(), v.begin(), v.end());
  const uint8_t* blocks[] = {reinterpret_cast<const uint8_t*>(kv_block.data())};
  const KvRows rows{DType::F32, blocks, 0, static_cast<int64_t>(k.size() * 4), 20, kvw * 4, s.head_dim * 4};
  attention(s, q.data(), n, pos0, rows, out.data(), {&pool, &reference_kernels()});
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < s.n_head; ++h) {
      const int64_t kvh = h / 2;
      std::vector<double> p;
      double m = -1e300, z = 0;
      for (int64_t j = 0; j <= pos0 + t; ++j) {
        double d = 0;
        for (int64_t e = 0; e < s.head_dim; ++e) d += double(q[(t * s.n_head + h) * s.head_dim + e]) * k[j * kvw + kvh * s.head_dim + e];
        p.push_back(d / 4.0);  // sqrt(16)
        m = std::max(m, p.back());
      }
      for (auto& x : p) z += (x = std::exp(x - m));
      for (int64_t e = 0; e < s.head_dim; ++e) {
        double want = 0;
        for (size_t j = 0; j < p.size(); ++j) want += p[j] / z * v[j * kvw + kvh * s.head_dim + e];
        ASSERT_NEAR(out[(t * s.n_head + h) * s.head_dim + e], want, 1e-5) << "token " << t << " head " << h;
      }
    }
}

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 5, 1000, 4097}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, 7, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
  }
}

TEST(ThreadPool, ManyShortRegionsBackToBack) {
  // Decode-like traffic: thousands of tiny regions, so workers are caught spinning, waking and
  // sleeping in every order. Each region must see all of its indices exactly once.
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    std::atomic<int64_t> total{0};
    for (int r = 0; r < 3000; ++r) {
      const int64_t n = 1 + r % 37;
      pool.parallel_for(n, 1, [&](int64_t b, int64_t e) { total += (e - b) * (e + b - 1) / 2; });
      if (r % 500 == 0) std::this_thread::sleep_for(std::chrono::microseconds(2 * ThreadPool::kSpinMicros));
    }
    int64_t want = 0;
    for (int r = 0; r < 3000; ++r) {
      const int64_t n = 1 + r % 37;
      want += n * (n - 1) / 2;
    }
    EXPECT_EQ(total.load(), want) << threads << " threads";
  }
}

}  // namespace
}  // namespace fare
