// Flash attention of every kernel set this CPU runs against attention written out in float64:
// grouped heads, several key tiles, partial tiles, odd numbers of keys, head sizes that are not
// multiples of the vector width, and F32 / F16 / BF16 caches.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

// A cache of the rows `kv_k` / `kv_v` (n_pos rows of `row` values: heads of `hd`) rounded to
// `type`, stored head by head in blocks of 2^block_shift positions laid out in a shuffled order (as
// a shared block pool hands them out), and the values it holds as floats.
struct Cache {
  std::vector<uint8_t> storage;
  std::vector<const uint8_t*> blocks;
  std::vector<float> k_vals, v_vals;
  KvRows rows;
  Cache(DType type, int64_t row, int64_t hd, int block_shift, const std::vector<float>& kv_k,
        const std::vector<float>& kv_v, uint32_t seed) {
    const int64_t es = type == DType::F32 ? 4 : 2, n_pos = static_cast<int64_t>(kv_k.size()) / row;
    const int64_t bt = int64_t{1} << block_shift, n_blocks = (n_pos + bt - 1) / bt, side = bt * row * es;
    storage.assign(static_cast<size_t>(n_blocks * 2 * side), 0xAB);  // unwritten rows hold garbage
    std::vector<int64_t> order(static_cast<size_t>(n_blocks));
    for (int64_t i = 0; i < n_blocks; ++i) order[static_cast<size_t>(i)] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    for (int64_t i = 0; i < n_blocks; ++i) blocks.push_back(storage.data() + order[static_cast<size_t>(i)] * 2 * side);
    rows = {type, blocks.data(), 0, side, block_shift, hd * es, bt * hd * es};
    k_vals.resize(kv_k.size());
    v_vals.resize(kv_v.size());
    for (int64_t p = 0; p < n_pos; ++p)
      for (int64_t e = 0; e < row; ++e) {
        const size_t i = static_cast<size_t>(p * row + e);
        put(type, kv_k[i], const_cast<uint8_t*>(rows.k_row(p, e / hd)) + e % hd * es, k_vals[i]);
        put(type, kv_v[i], const_cast<uint8_t*>(rows.v_row(p, e / hd)) + e % hd * es, v_vals[i]);
      }
  }
  static void put(DType type, float x, uint8_t* dst, float& held) {
    if (type == DType::F32) {
      std::memcpy(dst, &x, 4);
      held = x;
      return;
    }
    const uint16_t h = type == DType::F16 ? f32_to_f16(x) : f32_to_bf16(x);
    std::memcpy(dst, &h, 2);
    held = type == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
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
  // gpt-oss's additions: a sink logit per head, a sliding window (1: a query sees itself only),
  // and both.
  const struct { bool sinks; int64_t window; } variants[] = {{false, 0}, {true, 0}, {false, 7}, {true, 33}, {false, 1}};
  for (const auto& variant : variants)
  for (const DType kv_type : {DType::F32, DType::F16, DType::BF16})
    for (const Case& c : cases) {
      SCOPED_TRACE(testing::Message() << name(kv_type) << " heads " << c.n_head << "/" << c.n_head_kv << " dim "
                                      << c.head_dim << " tokens " << c.n_tokens << " pos0 " << c.pos0 << " sinks "
                                      << variant.sinks << " window " << variant.window);
      auto sinks = randn(static_cast<size_t>(c.n_head), seed + 99);
      for (float& x : sinks) x *= 3;  // some sinks far above the scores, some far below
      const AttentionShape s{c.n_head, c.n_head_kv, c.head_dim, variant.sinks ? sinks.data() : nullptr, variant.window};
      const int64_t ctx = c.pos0 + c.n_tokens, kvw = c.n_head_kv * c.head_dim, hd = c.head_dim;
      const auto q = randn(static_cast<size_t>(c.n_tokens * c.n_head * hd), seed);
      const auto kv_size = static_cast<size_t>(ctx * kvw);
      // Blocks of 1, 16 and 64 positions, and one block holding everything (a contiguous cache).
      const int block_shift = std::array{0, 4, 6, 12}[seed % 4];
      const Cache cache(kv_type, kvw, hd, block_shift, randn(kv_size, seed + 1), randn(kv_size, seed + 2), seed);
      seed += 3;
      std::vector<float> out(q.size(), -1.0f);
      ThreadPool pool(3);
      attention(s, q.data(), c.n_tokens, c.pos0, cache.rows, out.data(), {&pool, set});
      const int64_t group = c.n_head / c.n_head_kv;
      for (int64_t t = 0; t < c.n_tokens; ++t)
        for (int64_t h = 0; h < c.n_head; ++h) {
          const int64_t kvh = h / group;
          std::vector<double> p;
          double m = variant.sinks ? sinks[static_cast<size_t>(h)] : -1e300, z = 0;
          const int64_t first = variant.window > 0 ? std::max<int64_t>(0, c.pos0 + t - variant.window + 1) : 0;
          for (int64_t j = first; j <= c.pos0 + t; ++j) {
            double d = 0;
            for (int64_t e = 0; e < hd; ++e)
              d += double(q[(t * c.n_head + h) * hd + e]) * cache.k_vals[j * kvw + kvh * hd + e];
            p.push_back(d / std::sqrt(double(hd)));
            m = std::max(m, p.back());
          }
          for (auto& x : p) z += (x = std::exp(x - m));
          if (variant.sinks) z += std::exp(sinks[static_cast<size_t>(h)] - m);  // in the denominator only
          for (int64_t e = 0; e < hd; ++e) {
            double want = 0;
            for (size_t j = 0; j < p.size(); ++j) want += p[j] / z * cache.v_vals[(first + j) * kvw + kvh * hd + e];
            ASSERT_NEAR(out[(t * c.n_head + h) * hd + e], want, tol(kv_type)) << "token " << t << " head " << h << " dim " << e;
          }
        }
    }
}

// Several sequences in one call (a batch step: decode rows of some, a prompt chunk of another,
// each with its own paged cache) give every row the same bits as each sequence alone.
TEST_P(AttentionSets, SegmentsEqualSeparateCalls) {
  KernelSetInfo info{};
  const KernelSet* set = test::find_kernel_set(GetParam(), &info);
  ASSERT_NE(set, nullptr);
  if (!info.supported) GTEST_SKIP() << "this CPU lacks " << info.needs;
  const AttentionShape s{8, 2, 64};
  const int64_t kvw = s.n_head_kv * s.head_dim, qw = s.n_head * s.head_dim;
  const struct { int64_t n_tokens, pos0; } seqs[] = {{1, 40}, {37, 0}, {1, 3}, {70, 100}, {1, 129}};
  ThreadPool pool(2);
  for (const DType kv_type : {DType::F32, DType::BF16}) {
    std::vector<Cache> caches;
    std::vector<AttentionSegment> segments;
    std::vector<float> q;
    uint32_t seed = 77;
    for (const auto& sq : seqs) {
      const auto kv_size = static_cast<size_t>((sq.pos0 + sq.n_tokens) * kvw);
      caches.emplace_back(kv_type, kvw, s.head_dim, 4, randn(kv_size, seed), randn(kv_size, seed + 1), seed);
      const auto qs = randn(static_cast<size_t>(sq.n_tokens * qw), seed + 2);
      segments.push_back({static_cast<int64_t>(q.size()) / qw, sq.n_tokens, sq.pos0, {}});
      q.insert(q.end(), qs.begin(), qs.end());
      seed += 3;
    }
    for (size_t i = 0; i < segments.size(); ++i) segments[i].kv = caches[i].rows;
    std::vector<float> together(q.size(), -1.0f);
    attention(s, q.data(), segments, together.data(), {&pool, set});
    for (const AttentionSegment& sg : segments) {
      std::vector<float> alone(static_cast<size_t>(sg.n_tokens * qw), -2.0f);
      attention(s, q.data() + sg.t0 * qw, sg.n_tokens, sg.pos0, sg.kv, alone.data(), {&pool, set});
      for (size_t i = 0; i < alone.size(); ++i)
        ASSERT_EQ(alone[i], together[static_cast<size_t>(sg.t0 * qw) + i]) << name(kv_type) << " segment at " << sg.t0;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllSets, AttentionSets, ::testing::ValuesIn(test::kernel_set_names()),
                         [](const auto& p) { return test::test_name(p.param); });

}  // namespace
}  // namespace fare
