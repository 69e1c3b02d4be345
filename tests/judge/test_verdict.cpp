#include "judge/verdict.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace fare::judge {
namespace {

using nlohmann::json;

constexpr size_t kMinCorpus = 100;

std::vector<json> load_corpus() {
  std::ifstream in(std::string(FARE_JUDGE_TEST_DIR) + "/verdict_corpus.jsonl");
  EXPECT_TRUE(in.good());
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::string expected_text(const json& v) { return v.is_string() ? v.get<std::string>() : std::to_string(v.get<int>()); }

TEST(Verdict, Corpus) {
  std::vector<json> corpus = load_corpus();
  ASSERT_GE(corpus.size(), kMinCorpus);
  size_t n_invalid = 0;
  for (const json& c : corpus) {
    const std::string name = c.at("name");
    const std::string raw = c.at("output");
    VerdictContext ctx{parse_task(c.at("task").get<std::string>()), c.value("n_steps", -1)};
    Verdict v = parse_verdict(raw, ctx);
    SCOPED_TRACE(name + ": " + raw.substr(raw.size() > 120 ? raw.size() - 120 : 0));
    EXPECT_EQ(v.valid, c.at("valid").get<bool>()) << v.invalid_reason;
    if (c.at("valid")) {
      EXPECT_EQ(v.text, expected_text(c.at("verdict")));
      EXPECT_TRUE(v.invalid_reason.empty());
      ASSERT_LT(v.option_offset, raw.size());
      // The offset is where the option is written: the confidence reader relies on it.
      char at = raw[v.option_offset];
      if (ctx.task == Task::kPairwise) {
        EXPECT_EQ(std::string(1, at), v.text);
      } else if (is_verify(ctx.task)) {
        EXPECT_NE(std::string("CcIiYyNn").find(at), std::string::npos);
      } else {
        EXPECT_EQ(raw.substr(v.option_offset, v.text.size()), v.text);
      }
    } else {
      ++n_invalid;
      EXPECT_EQ(v.invalid_reason, c.at("reason").get<std::string>());
      EXPECT_TRUE(v.text.empty());
    }
    if (c.contains("reasoning_contains")) {
      EXPECT_NE(v.reasoning.find(c["reasoning_contains"].get<std::string>()), std::string::npos) << v.reasoning;
    }
  }
  EXPECT_GE(n_invalid, 30u) << "the corpus should keep plenty of adversarial cases";
}

TEST(Verdict, ReasoningAndExplanationAreSeparated) {
  Verdict v = parse_verdict("<think>\nhmm, A.\n</think>\n\nExplanation: A is right.\nVerdict: [A]\n", {Task::kPairwise});
  ASSERT_TRUE(v.valid);
  EXPECT_EQ(v.reasoning, "hmm, A.");
  EXPECT_EQ(v.explanation, "A is right.");
  EXPECT_EQ(v.verdict_line, "[A]");
}

TEST(Verdict, InvalidKeepsWhatWasWritten) {
  Verdict v = parse_verdict("Explanation: x\nVerdict: [C]", {Task::kPairwise});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.verdict_line, "[C]");
  EXPECT_EQ(v.explanation, "x");
}

TEST(Verdict, StepRangeUsesContext) {
  EXPECT_TRUE(parse_verdict("Verdict: 3", {Task::kStep, 4}).valid);
  EXPECT_FALSE(parse_verdict("Verdict: 4", {Task::kStep, 4}).valid);
  EXPECT_TRUE(parse_verdict("Verdict: 4", {Task::kStep, -1}).valid);
}

}  // namespace
}  // namespace fare::judge
