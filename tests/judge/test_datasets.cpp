// Every real benchmark file in ../shared/data loads completely, with the counts its README states.
#include "judge/dataset.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/error.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using testing::data_path;

struct Tally {
  size_t n = 0;
  std::map<double, size_t> labels;
  std::map<std::string, size_t> subsets;
  std::map<std::string, size_t> difficulties;
};

Tally tally(const LoadResult& r) {
  Tally t;
  std::set<std::string> ids;
  for (const Item& item : r.items) {
    ++t.n;
    if (item.label) ++t.labels[*item.label];
    ++t.subsets[item.subset];
    if (!item.difficulty.empty()) ++t.difficulties[item.difficulty];
    EXPECT_TRUE(ids.insert(item.id).second) << "duplicate id " << item.id;
    EXPECT_EQ(item.task, r.task);
  }
  return t;
}

LoadResult load_clean(const std::string& rel, const std::string& dataset, Task task) {
  LoadOptions o;
  o.strict = true;
  LoadResult r = load_dataset(data_path(rel), o);
  EXPECT_EQ(r.dataset, dataset) << rel;
  EXPECT_EQ(r.task, task) << rel;
  EXPECT_TRUE(r.problems.empty()) << rel;
  return r;
}

TEST(Datasets, JudgeBenchGpt4o) {
  LoadResult r = load_clean("judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl", "judgebench",
                            Task::kPairwise);
  Tally t = tally(r);
  EXPECT_EQ(t.n, 350u);
  EXPECT_EQ(t.labels[kOptionA], 193u);
  EXPECT_EQ(t.labels[kOptionB], 157u);
  EXPECT_EQ(t.subsets["mmlu-pro"], 154u);
  EXPECT_EQ(t.subsets["livebench-reasoning"], 98u);
  EXPECT_EQ(t.subsets["livebench-math"], 56u);
  EXPECT_EQ(t.subsets["livecodebench"], 42u);
  size_t with_original_id = 0;
  for (const Item& item : r.items) with_original_id += item.meta.at("original_id").is_number_integer();
  EXPECT_EQ(with_original_id, 154u);  // int for mmlu-pro, null for the others
}

TEST(Datasets, JudgeBenchClaude) {
  Tally t = tally(load_clean("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl",
                             "judgebench", Task::kPairwise));
  EXPECT_EQ(t.n, 270u);
  EXPECT_EQ(t.labels[kOptionA], 143u);
  EXPECT_EQ(t.labels[kOptionB], 127u);
  EXPECT_EQ(t.subsets["mmlu-pro"], 154u);
  EXPECT_EQ(t.subsets["livebench-reasoning"], 51u);
  EXPECT_EQ(t.subsets["livebench-math"], 34u);
  EXPECT_EQ(t.subsets["livecodebench"], 31u);
}

TEST(Datasets, ProcessBench) {
  struct Want {
    const char* file;
    size_t n, erroneous, correct;
  };
  for (Want w : {Want{"gsm8k", 400, 207, 193}, Want{"math", 1000, 594, 406}, Want{"olympiadbench", 1000, 661, 339},
                 Want{"omnimath", 1000, 759, 241}}) {
    LoadResult r = load_clean(std::string("processbench/") + w.file + ".json", "processbench", Task::kStep);
    Tally t = tally(r);
    EXPECT_EQ(t.n, w.n) << w.file;
    EXPECT_EQ(t.labels[kNoError], w.correct) << w.file;
    EXPECT_EQ(t.n - t.labels[kNoError], w.erroneous) << w.file;
    EXPECT_EQ(t.subsets.size(), 1u);
    EXPECT_EQ(t.subsets[w.file], w.n) << w.file;
    for (const Item& item : r.items) EXPECT_LT(*item.label, static_cast<double>(item.steps.size()));
  }
}

TEST(Datasets, ProcessBenchVariantDiffersInOneLabel) {
  LoadResult official = load_clean("processbench/math.json", "processbench", Task::kStep);
  LoadResult variant = load_clean("processbench/variants/math.ljxzs-jjlzs-fork.json", "processbench", Task::kStep);
  ASSERT_EQ(official.items.size(), variant.items.size());
  std::vector<std::string> differ;
  for (size_t i = 0; i < official.items.size(); ++i)
    if (official.items[i].label != variant.items[i].label) differ.push_back(official.items[i].id);
  ASSERT_EQ(differ, std::vector<std::string>{"math-688"});
  EXPECT_EQ(variant.items[0].subset, "math");  // from the id, not the variant's file name
}

TEST(Datasets, QuirksOfOtherCopies) {
  auto dir = testing::temp_dir("quirks");
  // Some ProcessBench copies store labels as strings.
  std::string pb = (dir / "gsm8k.json").string();
  testing::write_file(pb, R"([{"id": "gsm8k-0", "generator": "g", "problem": "p", "steps": ["a", "b"],
                               "final_answer_correct": false, "label": "1"},
                              {"id": "gsm8k-1", "generator": "g", "problem": "p", "steps": ["a"],
                               "final_answer_correct": true, "label": "-1"}])");
  LoadResult r = load_dataset(pb, {});
  EXPECT_EQ(r.dataset, "processbench");
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(*r.items[0].label, 1.0);
  EXPECT_EQ(*r.items[1].label, -1.0);

  std::string jb = (dir / "judgebench.jsonl").string();
  testing::write_file(jb, R"({"pair_id": "x", "original_id": null, "source": "livecodebench", "question": "q", )"
                          R"("response_model": "m", "response_A": "a", "response_B": "b", "label": "A=B"})" "\n");
  r = load_dataset(jb, {});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0], "judgebench.jsonl:1: field 'label' is \"A=B\", expected \"A>B\" or \"B>A\"");
}

TEST(Datasets, HardVerifyMath) {
  LoadResult r = load_clean("hardverify_math/HardVerify-Math.json", "hardverify_math", Task::kVerifyRef);
  Tally t = tally(r);
  EXPECT_EQ(t.n, 500u);
  EXPECT_EQ(t.labels[kCorrect], 250u);
  EXPECT_EQ(t.labels[kIncorrect], 250u);
  EXPECT_EQ(t.subsets["benchmarks"], 250u);
  EXPECT_EQ(t.subsets["big_math"], 250u);
  for (const Item& item : r.items) {
    ASSERT_TRUE(item.reference && item.response);
    EXPECT_NE(*item.reference, *item.response);
  }
}

TEST(Datasets, RmBench) {
  struct Want {
    const char* file;
    size_t prompts;
    const char* domain;
  };
  for (Want w : {Want{"chat_filtered", 129, "chat"}, Want{"code_filtered", 228, "code"},
                 Want{"safety-refuse_filtered", 284, "safety"}, Want{"safety-response_filtered", 157, "safety"}}) {
    LoadResult r = load_clean(std::string("rm_bench/") + w.file + ".json", "rm_bench", Task::kPairwise);
    Tally t = tally(r);
    EXPECT_EQ(t.n, w.prompts * 9) << w.file;
    EXPECT_EQ(t.subsets[w.domain], w.prompts * 9) << w.file;
    for (const char* d : {"hard", "normal", "easy"}) EXPECT_EQ(t.difficulties[d], w.prompts * 3) << w.file << " " << d;
    // Chosen answers sit on both sides, close to half each.
    EXPECT_NEAR(static_cast<double>(t.labels[kOptionA]) / t.n, 0.5, 0.06) << w.file;
  }
}

TEST(Datasets, RmBenchPairsFollowUpstreamDifficulty) {
  LoadResult r = load_clean("rm_bench/chat_filtered.json", "rm_bench", Task::kPairwise);
  const Item& hard = r.items.at(1);  // prompt 0: c0 r1
  EXPECT_EQ(hard.meta.at("chosen_index"), 0);
  EXPECT_EQ(hard.meta.at("rejected_index"), 1);
  EXPECT_EQ(hard.difficulty, "hard");
  const Item& easy = r.items.at(3);  // c1 r0
  EXPECT_EQ(easy.difficulty, "easy");
  // The chosen answer is the labelled side.
  const auto& chosen_side = *hard.label == kOptionA ? hard.response_a : hard.response_b;
  const auto& rejected_side = *hard.label == kOptionA ? hard.response_b : hard.response_a;
  EXPECT_NE(chosen_side, rejected_side);
}

TEST(Datasets, RmBenchSafetyPoolsTwoFiles) {
  LoadOptions o;
  o.strict = true;
  LoadResult r = load_datasets({data_path("rm_bench/safety-refuse_filtered.json"),
                                data_path("rm_bench/safety-response_filtered.json")}, o);
  EXPECT_EQ(r.items.size(), (284u + 157u) * 9);
  EXPECT_EQ(tally(r).subsets["safety"], (284u + 157u) * 9);
}

TEST(Datasets, LlmBarEveryFile) {
  struct Want {
    const char* file;
    const char* subset;
    size_t n, one, two;
  };
  for (Want w : {Want{"LLMBar/Natural", "Natural", 100, 42, 58}, Want{"LLMBar/Adversarial/Neighbor", "Neighbor", 134, 75, 59},
                 Want{"LLMBar/Adversarial/GPTInst", "GPTInst", 92, 45, 47},
                 Want{"LLMBar/Adversarial/GPTOut", "GPTOut", 47, 22, 25},
                 Want{"LLMBar/Adversarial/Manual", "Manual", 46, 22, 24},
                 Want{"Processed/FairEval", "FairEval", 66, 41, 25}, Want{"Processed/LLMEval2", "LLMEval2", 200, 92, 108},
                 Want{"Processed/MT-Bench", "MT-Bench", 200, 101, 99}}) {
    Tally t = tally(load_clean(std::string("llmbar/") + w.file + "/dataset.json", "llmbar", Task::kPairwise));
    EXPECT_EQ(t.n, w.n) << w.file;
    EXPECT_EQ(t.labels[kOptionA], w.one) << w.file;
    EXPECT_EQ(t.labels[kOptionB], w.two) << w.file;
    EXPECT_EQ(t.subsets[w.subset], w.n) << w.file;
  }
}

TEST(Datasets, MtBenchQuestionsNeedAnswers) {
  LoadResult r = load_clean("mt_bench/question.jsonl", "mt_bench", Task::kRating);
  Tally t = tally(r);
  EXPECT_EQ(t.n, 80u);
  EXPECT_TRUE(t.labels.empty());
  for (const char* c : {"writing", "roleplay", "reasoning", "math", "coding", "extraction", "stem", "humanities"})
    EXPECT_EQ(t.subsets[c], 10u) << c;
  size_t with_reference = 0;
  for (const Item& item : r.items) {
    with_reference += item.reference.has_value();
    EXPECT_FALSE(item.response.has_value());
    EXPECT_THROW(check_item_complete(item), Error);
  }
  EXPECT_EQ(with_reference, 30u);  // GPT-4 reference answers for math, reasoning and coding
}

TEST(Datasets, MtBenchWithAnswersFile) {
  auto dir = testing::temp_dir("mt_answers");
  std::string answers = (dir / "model.jsonl").string();
  std::string text;
  for (int q = 81; q <= 160; ++q)
    text += "{\"question_id\": " + std::to_string(q) + ", \"model_id\": \"m\", \"choices\": [{\"index\": 0, "
            "\"turns\": [\"answer " + std::to_string(q) + "\", \"second\"]}]}\n";
  testing::write_file(answers, text);
  LoadOptions o;
  o.strict = true;
  o.answers_path = answers;
  LoadResult r = load_dataset(data_path("mt_bench/question.jsonl"), o);
  ASSERT_EQ(r.items.size(), 80u);
  EXPECT_EQ(*r.items[0].response, "answer " + std::to_string(r.items[0].meta.at("question_id").get<int>()));
  for (const Item& item : r.items) EXPECT_NO_THROW(check_item_complete(item));
}

TEST(Datasets, MtBenchReferenceAnswersRated) {
  LoadResult r = load_clean("mt_bench/reference_answer/gpt-4.jsonl", "mt_bench", Task::kRating);
  ASSERT_EQ(r.items.size(), 30u);
  for (const Item& item : r.items) {
    EXPECT_TRUE(item.response.has_value());
    EXPECT_FALSE(item.instruction.empty());
    EXPECT_TRUE(item.subset == "math" || item.subset == "reasoning" || item.subset == "coding") << item.subset;
  }
}

TEST(Datasets, NonItemFilesAreRefusedClearly) {
  try {
    load_dataset(data_path("mt_bench/judge_prompts.jsonl"), {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("judge prompt"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_dataset(data_path("processbench/templates/critique_template.txt"), {}), Error);
}

TEST(Datasets, TaskAndNameMismatches) {
  LoadOptions o;
  o.task = Task::kStep;
  try {
    load_dataset(data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl"), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("task pairwise, not step"), std::string::npos) << e.what();
  }
  LoadOptions named;
  named.dataset = "processbench";
  named.strict = true;
  try {
    load_dataset(data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl"), named);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(":1: missing field 'id'"), std::string::npos) << e.what();
  }
  named.dataset = "nope";
  EXPECT_THROW(load_dataset(data_path("mt_bench/question.jsonl"), named), Error);
}

}  // namespace
}  // namespace fare::judge
