#include "sampler/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "common/error.h"

namespace fare {
namespace {

std::vector<float> logits_of(std::vector<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

int32_t draw(Sampler& s, std::vector<float> logits) { return s.sample(logits, {}, {}); }

TEST(Sampler, GreedyTakesArgmaxAndLowestIdOnTies) {
  Sampler s({});
  EXPECT_EQ(draw(s, {0.1f, 2.0f, -1.0f, 1.9f}), 1);
  EXPECT_EQ(draw(s, {3.0f, 1.0f, 3.0f}), 0);
}

TEST(Sampler, SameSeedSameSequenceOtherSeedDiffers) {
  const auto l = logits_of({0.25, 0.25, 0.25, 0.25});
  auto run = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(draw(s, l));
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Sampler, FrequenciesFollowTheDistribution) {
  Sampler s({.temperature = 1.0f, .seed = 42});
  const auto l = logits_of({0.5, 0.3, 0.2});
  constexpr int kDraws = 20000;
  std::map<int32_t, int> counts;
  for (int i = 0; i < kDraws; ++i) counts[draw(s, l)]++;
  // 0.016 is 4.5 standard deviations of a frequency near 0.5 over 20000 draws.
  EXPECT_NEAR(counts[0] / double(kDraws), 0.5, 0.016);
  EXPECT_NEAR(counts[1] / double(kDraws), 0.3, 0.016);
  EXPECT_NEAR(counts[2] / double(kDraws), 0.2, 0.016);
}

TEST(Sampler, TemperatureSharpens) {
  Sampler s({.temperature = 0.25f, .seed = 3});
  const auto l = logits_of({0.6, 0.4});
  int first = 0;
  for (int i = 0; i < 4000; ++i) first += draw(s, l) == 0;
  // At T = 0.25 p0 = 0.6^4 / (0.6^4 + 0.4^4) = 0.835; 0.03 is over 5 standard deviations.
  EXPECT_NEAR(first / 4000.0, 0.835, 0.03);
}

TEST(Sampler, TopKTopPAndMinPCutTheTail) {
  const auto l = logits_of({0.4, 0.3, 0.2, 0.1});
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Sampler k2({.temperature = 1.0f, .top_k = 2, .seed = seed});
    EXPECT_LT(draw(k2, l), 2);
    Sampler p({.temperature = 1.0f, .top_p = 0.65f, .seed = seed});  // 0.4 + 0.3 reaches 0.65
    EXPECT_LT(draw(p, l), 2);
    Sampler m({.temperature = 1.0f, .min_p = 0.6f, .seed = seed});  // keeps p >= 0.24
    EXPECT_LT(draw(m, l), 2);
    Sampler one({.temperature = 5.0f, .top_k = 1, .seed = seed});
    EXPECT_EQ(draw(one, l), 0);
  }
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  Sampler s({.repetition_penalty = 2.0f});
  std::vector<float> l = {4.0f, -1.0f, 3.0f};
  const int32_t seen[] = {0, 1, 0};
  EXPECT_EQ(s.sample(l, seen, {}), 2);
  EXPECT_FLOAT_EQ(l[0], 2.0f);   // once, although seen twice
  EXPECT_FLOAT_EQ(l[1], -2.0f);
  EXPECT_FLOAT_EQ(l[2], 3.0f);
}

TEST(Sampler, PresencePenaltyAppliesOncePerGeneratedToken) {
  Sampler s({.presence_penalty = 1.5f});
  std::vector<float> l = {4.0f, 3.0f};
  const int32_t gen[] = {0, 0, 0};
  EXPECT_EQ(s.sample(l, {}, gen), 1);
  EXPECT_FLOAT_EQ(l[0], 2.5f);
}

TEST(Sampler, RejectsOutOfRangeParameters) {
  EXPECT_THROW(Sampler({.temperature = -1.0f}), Error);
  EXPECT_THROW(Sampler({.top_k = -2}), Error);
  EXPECT_THROW(Sampler({.top_p = 0.0f}), Error);
  EXPECT_THROW(Sampler({.top_p = 1.5f}), Error);
  EXPECT_THROW(Sampler({.min_p = 2.0f}), Error);
  EXPECT_THROW(Sampler({.repetition_penalty = 0.0f}), Error);
  EXPECT_THROW(Sampler({.presence_penalty = NAN}), Error);
}

TEST(TopLogprobs, SortedNormalisedAndTieBrokenById) {
  const std::vector<float> l = {1.0f, 3.0f, 3.0f, -2.0f};
  const auto top = top_logprobs(l, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 1);
  EXPECT_EQ(top[1].id, 2);
  EXPECT_EQ(top[2].id, 0);
  double z = 0;
  for (float v : l) z += std::exp(v);
  EXPECT_NEAR(top[0].value, 3.0 - std::log(z), 1e-6);  // float32 rounding of a value near -0.7
  EXPECT_NEAR(token_logprob(l, 3), -2.0 - std::log(z), 1e-6);
  EXPECT_EQ(top_logprobs(l, 10).size(), 4u);
}

}  // namespace
}  // namespace fare
