// Flash attention of every kernel set this CPU runs against attention written out in float64:
// grouped heads, several key tiles, partial tiles, odd numbers of keys, head sizes that are not
// multiples of the vector width, and F32 / F16 / BF16 caches.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "common/half.h"
#include "common/thread_pool.h"
#include "ops/attention.h"
#include "ops/kernels.h"
#include "support/kernel_set_params.h"
#include "support/random.h"

namespace fare {
namespace {

struct Case {
  int64_t n_head, n_head_kv, head_dim, n_tokens, pos0;
};

// A cache of `n_pos` rows holding `vals` rounded to `type` (and the values as stored).
struct Cache {
  std::vector<uint8_t> k, v;
  std::vector<float> k_vals, v_vals;  // what the cache holds, as floats
  Cache(DType type, const std::vector<float>& kv_k, const std::vector<float>& kv_v) {
    for (auto [src, bytes, vals] : {std::tuple{&kv_k, &k, &k_vals}, std::tuple{&kv_v, &v, &v_vals}}) {
      const size_t n = src->size(), es = type == DType::F32 ? 4 : 2;
      bytes->resize(n * es);
      vals->resize(n);
      for (size_t i = 0; i < n; ++i) {
        const float x = (*src)[i];
        if (type == DType::F32) {
          std::memcpy(bytes->data() + 4 * i, &x, 4);
          (*vals)[i] = x;
        } else {
          const uint16_t h = type == DType::F16 ? f32_to_f16(x) : f32_to_bf16(x);
          std::memcpy(bytes->data() + 2 * i, &h, 2);
          (*vals)[i] = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
        }
      }
    }
  }
};

using test::randn;

class AttentionSets : public ::testing::TestWithParam<std::string> {};

TEST_P(AttentionSets, MatchesFloat64) {
  KernelSetInfo info{};
  const KernelSet* set = test::find_kernel_set(GetParam(), &info);
  ASSERT_NE(set, nullptr);
  if (!info.supported) GTEST_SKIP() << "this CPU lacks " << info.needs;
  const Case cases[] = {{4, 2, 16, 5, 3},   {2, 2, 128, 1, 200}, {8, 1, 64, 9, 0},  {4, 4, 80, 3, 37},
                        {6, 3, 24, 7, 64}, {2, 1, 32, 17, 15},  {4, 2, 8, 2, 130}, {2, 1, 128, 40, 90}};
  // Float products: float32 dot products of N(0,1) vectors and a convex combination of N(0,1)
  // values: rounding stays near 1e-6; 2e-5 leaves margin for the exp approximation (2 ulp).
  // A set whose attention rounds, on a BF16 cache (queries and probabilities to bf16, 2^-9
  // relative each, as it rounds matrix activations): 5.8e-3 at most measured here
  // (avx512-bf16); 1.5e-2 leaves margin.
  const auto tol = [&](DType kv) { return set->attend_rounds && kv == DType::BF16 ? 1.5e-2 : 2e-5; };
  uint32_t seed = 10;
  for (const DType kv_type : {DType::F32, DType::F16, DType::BF16})
    for (const Case& c : cases) {
      SCOPED_TRACE(testing::Message() << name(kv_type) << " heads " << c.n_head << "/" << c.n_head_kv << " dim "
                                      << c.head_dim << " tokens " << c.n_tokens << " pos0 " << c.pos0);
      const AttentionShape s{c.n_head, c.n_head_kv, c.head_dim};
      const int64_t ctx = c.pos0 + c.n_tokens, kvw = c.n_head_kv * c.head_dim, hd = c.head_dim;
      const auto q = randn(static_cast<size_t>(c.n_tokens * c.n_head * hd), seed);
      const auto kv_size = static_cast<size_t>(ctx * kvw);
      const Cache cache(kv_type, randn(kv_size, seed + 1), randn(kv_size, seed + 2));
      seed += 3;
      std::vector<float> out(q.size(), -1.0f);
      ThreadPool pool(3);
      attention(s, q.data(), c.n_tokens, c.pos0, {kv_type, cache.k.data(), cache.v.data()}, out.data(), {&pool, set});
      const int64_t group = c.n_head / c.n_head_kv;
      for (int64_t t = 0; t < c.n_tokens; ++t)
        for (int64_t h = 0; h < c.n_head; ++h) {
          const int64_t kvh = h / group;
          std::vector<double> p;
          double m = -1e300, z = 0;
          for (int64_t j = 0; j <= c.pos0 + t; ++j) {
            double d = 0;
            for (int64_t e = 0; e < hd; ++e)
              d += double(q[(t * c.n_head + h) * hd + e]) * cache.k_vals[j * kvw + kvh * hd + e];
            p.push_back(d / std::sqrt(double(hd)));
            m = std::max(m, p.back());
          }
          for (auto& x : p) z += (x = std::exp(x - m));
          for (int64_t e = 0; e < hd; ++e) {
            double want = 0;
            for (size_t j = 0; j < p.size(); ++j) want += p[j] / z * cache.v_vals[j * kvw + kvh * hd + e];
            ASSERT_NEAR(out[(t * c.n_head + h) * hd + e], want, tol(kv_type)) << "token " << t << " head " << h << " dim " << e;
          }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllSets, AttentionSets, ::testing::ValuesIn(test::kernel_set_names()),
                         [](const auto& p) { return test::test_name(p.param); });

}  // namespace
}  // namespace fare
