#include "judge/rerank.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "judge/scripted_backend.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;

// Candidates "cand <quality>": the scripted judge prefers the higher quality.
int quality_of(const std::string& text, size_t from) {
  size_t p = text.find("cand ", from);
  return p == std::string::npos ? -1 : std::stoi(text.substr(p + 5));
}

JudgeCompletion pairwise_by_quality(const JudgeRequest& req) {
  const std::string& user = req.messages.at(1).content;
  size_t a_at = user.find("[The Start of Assistant A's Answer]");
  size_t b_at = user.find("[The Start of Assistant B's Answer]");
  int qa = quality_of(user, a_at), qb = quality_of(user, b_at);
  JudgeCompletion c;
  c.text = std::string("Explanation: e\nVerdict: [") + (qa >= qb ? "A" : "B") + "]";
  return c;
}

RerankInput input(std::vector<int> qualities) {
  RerankInput in;
  in.instruction = "q";
  for (int q : qualities) {
    in.candidates.push_back("cand " + std::to_string(q));
    in.correct.push_back(q >= 5);
  }
  return in;
}

TEST(Rerank, KnockoutFindsTheBestAndRanksByRound) {
  ScriptedBackend backend("j", pairwise_by_quality);
  JudgeConfig cfg = make_config(Task::kPairwise, builtin_template(Task::kPairwise), {});
  RerankResult r = rerank(backend, cfg, input({3, 9, 1, 4, 7}), RerankMethod::kKnockout);
  // Round 0: 0v1 -> 1, 2v3 -> 3, 4 bye. Round 1: 1v3 -> 1, 4 bye. Round 2: 1v4 -> 1.
  EXPECT_EQ(r.ranking, (std::vector<int>{1, 4, 3, 0, 2}));
  EXPECT_EQ(r.matches.size(), 4u);
  EXPECT_EQ(backend.n_calls(), 8u);  // both orders per match
  EXPECT_EQ(r.judgments.size(), 8u);
  EXPECT_EQ(r.best_correct, true);
  for (const Match& m : r.matches) EXPECT_FALSE(m.decided_by_tiebreak);
  json j = rerank_to_json(r, input({3, 9, 1, 4, 7}));
  EXPECT_EQ(j["best"], 1);
  EXPECT_EQ(j["matches"].size(), 4u);
}

TEST(Rerank, KnockoutTiebreakByProbabilityThenInputOrder) {
  // A judge that always says [A]: every match disagrees across orders.
  ScriptedBackend biased("j", [](const JudgeRequest&) { return testing::completion("Verdict: [A]"); });
  JudgeConfig cfg = make_config(Task::kPairwise, builtin_template(Task::kPairwise), {});
  RerankResult r = rerank(biased, cfg, input({1, 2, 3}), RerankMethod::kKnockout);
  EXPECT_EQ(r.ranking, (std::vector<int>{0, 2, 1}));
  for (const Match& m : r.matches) EXPECT_TRUE(m.decided_by_tiebreak);
  EXPECT_EQ(r.best_correct, false);
}

TEST(Rerank, PointwiseByVerdictOrProbability) {
  ScriptedBackend backend("j", [](const JudgeRequest& req) {
    const std::string& user = req.messages.at(1).content;
    int q = quality_of(user, 0);
    JudgeCompletion c;
    c.text = q >= 5 ? "Verdict: [Correct]" : q == 0 ? "Verdict: ???" : "Verdict: [Incorrect]";
    return c;
  });
  JudgeConfig cfg = make_config(Task::kVerify, builtin_template(Task::kVerify), {});
  RerankResult r = rerank(backend, cfg, input({2, 0, 8, 6}), RerankMethod::kPointwise);
  EXPECT_EQ(r.ranking, (std::vector<int>{2, 3, 0, 1}));  // equal scores keep input order; invalid last
  ASSERT_EQ(r.scores.size(), 4u);
  EXPECT_EQ(r.scores[0], 0.0);
  EXPECT_FALSE(r.scores[1].has_value());
  EXPECT_EQ(r.best_correct, true);

  // With probabilities the soft score separates candidates with the same verdict.
  ScriptedBackend soft("j", [](const JudgeRequest& req) {
    int q = quality_of(req.messages.at(1).content, 0);
    JudgeCompletion c;
    c.text = "Verdict: [Correct]";
    double p = q / 10.0;
    c.steps = {{"Verdict: [", 0, {}}, {"Correct", std::log(p), {{"Correct", std::log(p)}, {"In", std::log(1 - p)}}},
               {"]", 0, {}}};
    return c;
  }, true);
  r = rerank(soft, cfg, input({6, 9, 7}), RerankMethod::kPointwise);
  EXPECT_EQ(r.ranking, (std::vector<int>{1, 2, 0}));
  EXPECT_NEAR(*r.scores[1], 0.9, 1e-9);
}

TEST(Rerank, InputSchemaAndTaskChecks) {
  RerankInput in = rerank_input_from_json(
      json::parse(R"({"instruction":"q","candidates":["a",{"response":"b","correct":true}],"reference":"r"})"), "x");
  EXPECT_EQ(in.candidates, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(in.correct[0].has_value());
  EXPECT_EQ(in.correct[1], true);
  EXPECT_THROW(rerank_input_from_json(json::parse(R"({"instruction":"q","candidates":["a"]})"), "x"), Error);

  ScriptedBackend backend("j", pairwise_by_quality);
  JudgeConfig pw = make_config(Task::kPairwise, builtin_template(Task::kPairwise), {});
  EXPECT_THROW(rerank(backend, pw, input({1, 2}), RerankMethod::kPointwise), Error);
  JudgeConfig vr = make_config(Task::kVerifyRef, builtin_template(Task::kVerifyRef), {});
  EXPECT_THROW(rerank(backend, vr, input({1, 2}), RerankMethod::kPointwise), Error);  // no reference
  EXPECT_EQ(parse_rerank_method("knockout"), RerankMethod::kKnockout);
  EXPECT_THROW(parse_rerank_method("swiss"), Error);
}

}  // namespace
}  // namespace fare::judge
