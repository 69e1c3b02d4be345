#include "judge/confidence.h"

#include <gtest/gtest.h>

#include <cmath>

#include "judge/verdict.h"

namespace fare::judge {
namespace {

TokenStep step(const std::string& text, std::vector<std::pair<std::string, double>> top = {}) {
  TokenStep s;
  s.text = text;
  for (auto& [t, p] : top) s.top.push_back({t, std::log(p)});
  s.logprob = s.top.empty() ? 0.0 : s.top.front().logprob;
  return s;
}

std::string join(const std::vector<TokenStep>& steps) {
  std::string s;
  for (const auto& t : steps) s += t.text;
  return s;
}

TEST(Confidence, PairwiseBracketPosition) {
  std::vector<TokenStep> steps = {step("Explanation"), step(": A wins.\n"), step("Verdict"), step(":"), step(" ["),
                                  step("A", {{"A", 0.6}, {"B", 0.3}, {"C", 0.05}, {" ", 0.05}}), step("]")};
  std::string text = join(steps);
  Verdict v = parse_verdict(text, {Task::kPairwise});
  ASSERT_TRUE(v.valid);
  auto p = option_probabilities(steps, text, v.option_offset, Task::kPairwise, -1);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->options, (std::vector<std::string>{"A", "B"}));
  EXPECT_NEAR(p->probs[0], 0.6 / 0.9, 1e-9);
  EXPECT_NEAR(p->probs[1], 0.3 / 0.9, 1e-9);
  EXPECT_NEAR(p->mass, 0.9, 1e-9);
  EXPECT_NEAR(p->soft_score, 0.6 / 0.9, 1e-9);
  OptionProbabilities s = swap_pairwise(*p);
  EXPECT_NEAR(s.probs[0], 0.3 / 0.9, 1e-9);
  EXPECT_NEAR(s.soft_score, 0.3 / 0.9, 1e-9);
}

TEST(Confidence, TokenCarryingTheLeadingSpace) {
  // "Verdict: B" tokenised as "Verdict", ":", " B": alternatives must share the " " prefix.
  std::vector<TokenStep> steps = {step("Verdict"), step(":"), step(" B", {{" B", 0.5}, {" A", 0.25}, {"A", 0.25}})};
  std::string text = join(steps);
  Verdict v = parse_verdict(text, {Task::kPairwise});
  ASSERT_TRUE(v.valid);
  auto p = option_probabilities(steps, text, v.option_offset, Task::kPairwise, -1);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->probs[0], 1.0 / 3, 1e-9);  // "A" without the space does not continue " "
  EXPECT_NEAR(p->mass, 0.75, 1e-9);
}

TEST(Confidence, VerifyPrefixTokensAndSampledTokenOutsideTop) {
  std::vector<TokenStep> steps = {step("Verdict: ["), step("In", {{"Correct", 0.7}, {"Inc", 0.2}})};
  steps.back().logprob = std::log(0.1);  // sampled "In", which the top list does not hold
  steps.push_back(step("correct]"));
  std::string text = join(steps);
  Verdict v = parse_verdict(text, {Task::kVerify});
  ASSERT_TRUE(v.valid);
  EXPECT_EQ(v.text, "Incorrect");
  auto p = option_probabilities(steps, text, v.option_offset, Task::kVerify, -1);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->mass, 1.0, 1e-9);
  EXPECT_NEAR(p->soft_score, 0.7, 1e-9);  // P(Correct)
}

TEST(Confidence, RatingExpectedValueAndStepNoError) {
  std::vector<TokenStep> steps = {step("Verdict: "), step("8", {{"8", 0.5}, {"7", 0.25}, {"9", 0.25}})};
  std::string text = join(steps);
  auto p = option_probabilities(steps, text, parse_verdict(text, {Task::kRating}).option_offset, Task::kRating, -1);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->soft_score, 8.0, 1e-9);
  EXPECT_EQ(p->options.size(), 10u);

  steps = {step("Verdict: "), step("-", {{"-", 0.4}, {"2", 0.6}}), step("1")};
  text = join(steps);
  Verdict v = parse_verdict(text, {Task::kStep, 3});
  ASSERT_TRUE(v.valid);
  p = option_probabilities(steps, text, v.option_offset, Task::kStep, 3);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->soft_score, 0.4, 1e-9);
}

TEST(Confidence, NoneWhenStepsDoNotMatchTextOrNameNoOption) {
  std::vector<TokenStep> steps = {step("Verdict: ["), step("A", {{"A", 0.9}}), step("]")};
  std::string text = join(steps);
  size_t off = parse_verdict(text, {Task::kPairwise}).option_offset;
  EXPECT_FALSE(option_probabilities(steps, text + "x", off + 1, Task::kPairwise, -1).has_value());
  EXPECT_FALSE(option_probabilities(steps, "Verdict: [B]", off, Task::kPairwise, -1).has_value());
  EXPECT_FALSE(option_probabilities({}, text, off, Task::kPairwise, -1).has_value());
  std::vector<TokenStep> odd = {step("Verdict: ["), step("A", {{"Z", 0.9}}), step("]")};
  odd[1].logprob = -100;  // the sampled A has no mass worth counting... but still some
  auto p = option_probabilities(odd, text, off, Task::kPairwise, -1);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->probs[0], 1.0, 1e-12);
}

}  // namespace
}  // namespace fare::judge
