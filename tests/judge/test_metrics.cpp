// Metrics against numbers worked out by hand.
#include "judge/metrics.h"

#include <gtest/gtest.h>

#include "judge/report.h"

namespace fare::judge {
namespace {

constexpr int kInvalid = -99;  // marks an invalid decision in the tables below

std::optional<Decision> dec(int code, Order order = Order::kAsGiven) {
  Decision d;
  d.order = order;
  d.n_samples = 1;
  if (code == kInvalid) {
    d.invalid_reason = "no verdict line";
    return d;
  }
  d.valid = true;
  d.code = code;
  d.n_valid = d.n_votes = 1;
  return d;
}

ItemOutcome outcome(double label, int ab, int ba = kInvalid, const std::string& subset = "", bool has_ba = false) {
  ItemOutcome o;
  o.label = label;
  o.subset = subset;
  o.as_given = dec(ab);
  if (has_ba) o.swapped = dec(ba, Order::kSwapped);
  return o;
}

double get(const Metrics& m, const std::string& group, const std::string& name) {
  const MetricGroup* g = m.group(group);
  EXPECT_TRUE(g) << group;
  auto v = g ? g->get(name) : std::nullopt;
  EXPECT_TRUE(v.has_value()) << group << " " << name;
  return v.value_or(-1);
}

TEST(Metrics, PairwiseBothOrders) {
  const int A = kOptionA, B = kOptionB;
  std::vector<ItemOutcome> items = {outcome(A, A, A, "", true), outcome(A, A, B, "", true),
                                    outcome(B, kInvalid, B, "", true), outcome(B, A, A, "", true)};
  Metrics m = compute_metrics(Task::kPairwise, items, true);
  EXPECT_EQ(m.headline_name, "accuracy_consistent");
  EXPECT_DOUBLE_EQ(*m.headline, 0.25);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_ab"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_ba"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_mean_of_orders"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_score_rule"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "consistency_rate"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "invalid_ab"), 1);
  EXPECT_DOUBLE_EQ(get(m, "overall", "invalid_ba"), 0);
  // Right answer shown first: p1 ab, p2 ab, p3 ba right, p4 ba wrong; shown second: only p1 ba right.
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_right_shown_first"), 0.75);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_right_shown_second"), 0.25);
  EXPECT_DOUBLE_EQ(get(m, "overall", "position_bias_gap"), 0.5);

  Metrics single = compute_metrics(Task::kPairwise, items, false);
  EXPECT_EQ(single.headline_name, "accuracy");
  EXPECT_DOUBLE_EQ(*single.headline, 0.5);
  EXPECT_FALSE(single.groups[0].get("consistency_rate").has_value());
}

TEST(Metrics, StepPerSubsetF1AndMean) {
  std::vector<ItemOutcome> items = {outcome(-1, -1, 0, "s1"), outcome(-1, 0, 0, "s1"), outcome(2, 2, 0, "s1"),
                                    outcome(3, kInvalid, 0, "s1"), outcome(-1, -1, 0, "s2"), outcome(1, 1, 0, "s2")};
  Metrics m = compute_metrics(Task::kStep, items, true);
  EXPECT_DOUBLE_EQ(get(m, "subset=s1", "accuracy_correct"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "subset=s1", "accuracy_erroneous"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "subset=s1", "f1"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "subset=s2", "f1"), 1.0);
  EXPECT_EQ(m.headline_name, "f1_mean_over_subsets");
  EXPECT_DOUBLE_EQ(*m.headline, 0.75);
  EXPECT_NEAR(get(m, "overall", "f1"), 2.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(get(m, "overall", "invalid"), 1);
}

TEST(Metrics, StepF1UndefinedWithoutBothKinds) {
  Metrics m = compute_metrics(Task::kStep, {outcome(2, 2, 0, "only_errors")}, true);
  EXPECT_FALSE(m.group("subset=only_errors")->get("f1").has_value());
  EXPECT_FALSE(m.headline.has_value());
}

TEST(Metrics, VerifyPrecisionRecall) {
  const int C = kCorrect, I = kIncorrect;
  std::vector<ItemOutcome> items = {outcome(C, C), outcome(C, I), outcome(I, C), outcome(I, I), outcome(C, kInvalid)};
  Metrics m = compute_metrics(Task::kVerifyRef, items, true);
  EXPECT_DOUBLE_EQ(*m.headline, 0.4);
  EXPECT_DOUBLE_EQ(get(m, "overall", "precision_correct"), 0.5);
  EXPECT_NEAR(get(m, "overall", "recall_correct"), 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(get(m, "overall", "accuracy_on_incorrect"), 0.5);
  EXPECT_NEAR(get(m, "overall", "f1_correct"), 0.4, 1e-12);
  EXPECT_DOUBLE_EQ(get(m, "overall", "invalid"), 1);
  // Nothing predicted Correct: precision is undefined, not 0, and so is F1.
  Metrics none = compute_metrics(Task::kVerify, {outcome(C, I)}, true);
  EXPECT_FALSE(none.groups[0].get("precision_correct").has_value());
  EXPECT_FALSE(none.groups[0].get("f1_correct").has_value());
}

TEST(Metrics, RatingMomentsAndCorrelations) {
  std::vector<ItemOutcome> items = {outcome(1, 2), outcome(3, 4), outcome(2, 6), outcome(5, kInvalid)};
  Metrics m = compute_metrics(Task::kRating, items, true);
  EXPECT_DOUBLE_EQ(*m.headline, 4.0);
  EXPECT_DOUBLE_EQ(get(m, "overall", "stddev"), 2.0);
  EXPECT_DOUBLE_EQ(get(m, "overall", "pearson"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "spearman"), 0.5);
  EXPECT_DOUBLE_EQ(get(m, "overall", "mean_abs_error"), 2.0);
  EXPECT_DOUBLE_EQ(get(m, "overall", "invalid"), 1);
}

TEST(Metrics, CorrelationsAndHarmonicMean) {
  EXPECT_NEAR(*spearman({1, 2, 2, 3}, {1, 2, 3, 4}), 4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_NEAR(*pearson({1, 2, 3}, {2, 4, 6}), 1.0, 1e-12);
  EXPECT_NEAR(*pearson({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_FALSE(pearson({1, 1, 1}, {1, 2, 3}).has_value());
  EXPECT_FALSE(pearson({1}, {1}).has_value());
  EXPECT_DOUBLE_EQ(harmonic_mean(0, 0), 0);
  EXPECT_NEAR(harmonic_mean(1, 0.5), 2.0 / 3, 1e-12);
}

Judgment sample(int s, int code, std::optional<std::pair<double, double>> probs = std::nullopt) {
  Judgment j;
  j.item_id = "x";
  j.task = Task::kPairwise;
  j.sample = s;
  j.valid = code != kInvalid;
  j.code = j.valid ? code : 0;
  if (!j.valid) j.verdict.invalid_reason = s == 0 ? "no verdict line" : "empty verdict";
  if (probs) j.probs = OptionProbabilities{{"A", "B"}, {probs->first, probs->second}, 1.0, probs->first};
  return j;
}

Decision vote(const std::vector<Judgment>& js) {
  std::vector<const Judgment*> p;
  for (const auto& j : js) p.push_back(&j);
  return decide(p);
}

TEST(Metrics, MajorityVoteAndTieRules) {
  Decision d = vote({sample(0, kOptionA), sample(1, kOptionB), sample(2, kOptionB), sample(3, kInvalid)});
  EXPECT_TRUE(d.valid);
  EXPECT_EQ(d.code, kOptionB);
  EXPECT_EQ(d.n_votes, 2);
  EXPECT_EQ(d.n_valid, 3);
  EXPECT_EQ(d.n_samples, 4);
  EXPECT_FALSE(d.tie_broken);

  d = vote({sample(1, kOptionB), sample(0, kOptionA)});  // no probabilities: the first vote by sample index
  EXPECT_TRUE(d.tie_broken);
  EXPECT_EQ(d.code, kOptionA);

  d = vote({sample(0, kOptionA, {{0.51, 0.49}}), sample(1, kOptionB, {{0.1, 0.9}})});
  EXPECT_TRUE(d.tie_broken);
  EXPECT_EQ(d.code, kOptionB);  // summed P(B) 1.39 beats P(A) 0.61
  EXPECT_NEAR(*d.soft_score, 0.305, 1e-12);

  d = vote({sample(0, kInvalid), sample(1, kInvalid)});
  EXPECT_FALSE(d.valid);
  EXPECT_EQ(d.invalid_reason, "no verdict line");
}

TEST(Metrics, TableAndCounts) {
  std::vector<ItemOutcome> items = {outcome(kOptionA, kOptionA, kOptionA, "g1", true),
                                    outcome(kOptionB, kOptionA, kOptionB, "g2", true)};
  std::string table = format_metrics_table(compute_metrics(Task::kPairwise, items, true));
  EXPECT_NE(table.find("accuracy_consistent"), std::string::npos) << table;
  EXPECT_NE(table.find("50.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("headline: accuracy_consistent = 50.00%"), std::string::npos) << table;
  EXPECT_NE(table.find("g2"), std::string::npos) << table;

  Judgment bad = sample(0, kInvalid);
  bad.finish_reason = "length";
  Judgment good = sample(1, kOptionA);
  JudgmentCounts c = count_judgments({&bad, &good});
  EXPECT_EQ(c.n_invalid, 1);
  EXPECT_EQ(c.n_cut_off, 1);
  EXPECT_EQ(c.invalid_reasons.at("no verdict line"), 1);
  EXPECT_NE(format_counts(c).find("invalid 1 (no verdict line 1)"), std::string::npos) << format_counts(c);
}

}  // namespace
}  // namespace fare::judge
