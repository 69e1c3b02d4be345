// The evaluator with a scripted backend: metrics, results lines, resuming after a crash.
#include "judge/eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"
#include "judge/dataset.h"
#include "judge/prompt.h"
#include "judge/progress.h"
#include "judge/scripted_backend.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
using testing::read_file;
using testing::temp_dir;
using testing::completion;
using testing::write_file;

// Pairs whose right answer reads "good <id>" and wrong one "bad <id>", the right one on side A for
// even items. The scripted judge picks the good answer, except: p3 always says [A] (position bias),
// p4 never gives a verdict.
std::vector<Item> pairs(int n) {
  std::vector<Item> items;
  for (int i = 0; i < n; ++i) {
    Item it;
    it.id = cat("p", i);
    it.task = Task::kPairwise;
    it.instruction = cat("Question ", it.id, "?");
    std::string good = cat("good ", it.id), bad = cat("bad ", it.id);
    it.response_a = i % 2 == 0 ? good : bad;
    it.response_b = i % 2 == 0 ? bad : good;
    it.label = i % 2 == 0 ? kOptionA : kOptionB;
    it.subset = i < n / 2 ? "first" : "second";
    items.push_back(it);
  }
  return items;
}

JudgeCompletion pairwise_judge(const JudgeRequest& req) {
  const std::string& user = req.messages.at(1).content;
  JudgeCompletion c;
  if (user.find("Question p4?") != std::string::npos) {
    c.text = "Explanation: I keep thinking about it and";
    c.finish_reason = "length";
    return c;
  }
  bool good_first = user.find("A's Answer]\ngood") != std::string::npos;
  bool biased = user.find("Question p3?") != std::string::npos;
  c.text = std::string("Explanation: one of them is right.\nVerdict: [") + (good_first || biased ? "A" : "B") + "]";
  return c;
}

JudgeConfig pairwise_config() { return make_config(Task::kPairwise, builtin_template(Task::kPairwise), {}); }

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

EvalOptions options(const std::string& out) {
  EvalOptions o;
  o.output_path = out;
  return o;
}

TEST(Eval, PairwiseMetricsAndResultLines) {
  auto dir = temp_dir("eval_pairwise");
  std::string out = (dir / "results.jsonl").string();
  ScriptedBackend backend("judge-x", pairwise_judge);
  EvalReport r = run_eval(backend, pairwise_config(), pairs(6), options(out));

  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.n_jobs, 12u);
  EXPECT_EQ(r.n_run, 12u);
  EXPECT_EQ(backend.n_calls(), 12u);
  // p0, p1, p2, p5 consistent and right; p3 inconsistent; p4 invalid in both orders.
  EXPECT_NEAR(*r.metrics.headline, 4.0 / 6, 1e-12);
  EXPECT_NEAR(*r.metrics.group("overall")->get("accuracy_ab"), 4.0 / 6, 1e-12);  // p3 as given is [A], its label B
  EXPECT_NEAR(*r.metrics.group("overall")->get("accuracy_ba"), 5.0 / 6, 1e-12);
  EXPECT_EQ(r.counts.n_invalid, 2);
  EXPECT_EQ(r.counts.n_cut_off, 2);
  EXPECT_EQ(r.n_decisions_invalid, 2u);

  std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 12u);
  json first = json::parse(lines[0]);
  for (const char* k : {"key", "item_id", "task", "order", "sample", "raw", "reasoning", "verdict", "invalid_reason",
                        "confidence", "prompt_tokens", "completion_tokens", "seconds", "template_hash", "model_id",
                        "generation", "label", "correct"})
    EXPECT_TRUE(first.contains(k)) << k;
  EXPECT_EQ(first["model_id"], "judge-x");
  EXPECT_EQ(first["template_hash"], builtin_template(Task::kPairwise).hash());
  // A swapped judgment is recorded in the item's own terms.
  for (const std::string& l : lines) {
    json j = json::parse(l);
    if (j["item_id"] == "p1" && j["order"] == "ba") {
      EXPECT_EQ(j["verdict_as_shown"], "A");
      EXPECT_EQ(j["verdict"], "B");
      EXPECT_EQ(j["correct"], true);
    }
  }

  json summary = json::parse(read_file(r.summary_path));
  EXPECT_EQ(r.summary_path, (dir / "results.summary.json").string());
  EXPECT_EQ(summary["task"], "pairwise");
  EXPECT_EQ(summary["judgments"]["invalid"], 2);
  EXPECT_EQ(summary["judgments"]["invalid_reasons"]["no verdict line"], 2);
  EXPECT_NEAR(summary["metrics"]["groups"]["overall"]["accuracy_consistent"].get<double>(), 4.0 / 6, 1e-12);
  EXPECT_TRUE(summary["metrics"]["groups"].contains("subset=second"));
  EXPECT_EQ(summary["config"]["swap"], true);
}

TEST(Eval, SummaryAndReportAreNamedAfterTheResults) {
  EXPECT_EQ(summary_path_for("out/jb.jsonl"), "out/jb.summary.json");
  EXPECT_EQ(report_path_for("out/jb.jsonl"), "out/jb.report.html");
  EXPECT_EQ(summary_path_for("pb.json"), "pb.summary.json");
  EXPECT_EQ(summary_path_for("runs/v2.results"), "runs/v2.results.summary.json");
  EXPECT_EQ(report_path_for("/tmp/a.b.jsonl"), "/tmp/a.b.report.html");
}

TEST(Eval, RerunSkipsEverythingDone) {
  auto dir = temp_dir("eval_rerun");
  std::string out = (dir / "r.jsonl").string();
  ScriptedBackend first("judge-x", pairwise_judge);
  EvalReport a = run_eval(first, pairwise_config(), pairs(6), options(out));
  ScriptedBackend second("judge-x", pairwise_judge);
  EvalReport b = run_eval(second, pairwise_config(), pairs(6), options(out));
  EXPECT_EQ(second.n_calls(), 0u);
  EXPECT_EQ(b.n_resumed, 12u);
  EXPECT_EQ(lines_of(out).size(), 12u);
  EXPECT_EQ(*a.metrics.headline, *b.metrics.headline);
  EXPECT_EQ(b.counts.n_invalid, a.counts.n_invalid);

  // Other generation settings reuse the judgments (the key has no settings) but say so.
  ConfigOverrides ov;
  ov.max_tokens = 99;
  std::ostringstream log;
  EvalOptions o = options(out);
  o.log = &log;
  ScriptedBackend third("judge-x", pairwise_judge);
  run_eval(third, make_config(Task::kPairwise, builtin_template(Task::kPairwise), ov), pairs(6), o);
  EXPECT_EQ(third.n_calls(), 0u);
  EXPECT_NE(log.str().find("12 judgments reused"), std::string::npos) << log.str();
}

// A scripted judge that says which chat template family its model has.
class FamilyBackend : public ScriptedBackend {
 public:
  explicit FamilyBackend(std::string family) : ScriptedBackend("judge-x", pairwise_judge), family_(std::move(family)) {}
  std::string chat_family() const override { return family_; }

 private:
  std::string family_;
};

JudgeConfig effort_config(const std::string& effort) {
  ConfigOverrides ov;
  ov.reasoning_effort = effort;
  return make_config(Task::kPairwise, builtin_template(Task::kPairwise), ov);
}

TEST(Eval, ModelFamilyAndReasoningEffortAreRecordedAndChecked) {
  auto dir = temp_dir("eval_effort");
  std::string out = (dir / "r.jsonl").string();
  FamilyBackend harmony("harmony");
  EvalReport a = run_eval(harmony, effort_config("high"), pairs(6), options(out));
  for (const JudgeRequest& req : harmony.requests()) EXPECT_EQ(req.reasoning_effort, "high");
  const std::vector<std::string> lines = lines_of(out);
  ASSERT_EQ(lines.size(), 12u);
  const json first = json::parse(lines[0]);
  EXPECT_EQ(first["model_family"], "harmony");
  EXPECT_EQ(first["reasoning_effort"], "high");
  const Judgment back = judgment_from_json(first, "line 1");
  EXPECT_EQ(back.model_family, "harmony");
  EXPECT_EQ(back.reasoning_effort, "high");
  EXPECT_EQ(a.summary["model_family"], "harmony");
  EXPECT_EQ(a.summary["config"]["reasoning_effort"], "high");

  // Another effort reuses the judgments, as other settings do, and says so.
  std::ostringstream log;
  EvalOptions o = options(out);
  o.log = &log;
  FamilyBackend again("harmony");
  run_eval(again, effort_config("low"), pairs(6), o);
  EXPECT_EQ(again.n_calls(), 0u);
  EXPECT_NE(log.str().find("12 judgments reused"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("reasoning effort"), std::string::npos) << log.str();
  std::ostringstream same_log;
  o.log = &same_log;
  FamilyBackend same("harmony");
  run_eval(same, effort_config("high"), pairs(6), o);
  EXPECT_EQ(same_log.str().find("reused"), std::string::npos) << same_log.str();

  // A Qwen3 model has no effort to set: refused before anything is judged or written.
  const std::string other = (dir / "qwen3.jsonl").string();
  FamilyBackend qwen3("qwen3");
  EXPECT_THROW(run_eval(qwen3, effort_config("high"), pairs(2), options(other)), Error);
  EXPECT_EQ(qwen3.n_calls(), 0u);
  EXPECT_FALSE(std::filesystem::exists(other) && !read_file(other).empty());
  // Without an effort it runs, and records no effort; a backend that cannot tell its family
  // (a remote server) passes the effort on.
  const EvalReport q = run_eval(qwen3, effort_config(""), pairs(2), options(other));
  EXPECT_EQ(json::parse(lines_of(other)[0])["reasoning_effort"], nullptr);
  EXPECT_EQ(q.summary["config"]["reasoning_effort"], nullptr);
  EXPECT_EQ(q.summary["model_family"], "qwen3");
  ScriptedBackend unknown("judge-x", pairwise_judge);
  const EvalReport u = run_eval(unknown, effort_config("medium"), pairs(2), options((dir / "u.jsonl").string()));
  EXPECT_EQ(u.summary["model_family"], nullptr);
  EXPECT_EQ(json::parse(lines_of((dir / "u.jsonl").string())[0])["reasoning_effort"], "medium");
  EXPECT_THROW(effort_config("extreme"), Error);
}

void check_unique_keys(const std::string& out, size_t expected) {
  std::set<std::string> keys;
  std::vector<std::string> lines = lines_of(out);
  for (const std::string& l : lines) EXPECT_TRUE(keys.insert(json::parse(l).at("key")).second) << l;
  EXPECT_EQ(lines.size(), expected);
  EXPECT_TRUE(read_file(out).ends_with("\n"));
}

TEST(Eval, ResumeAfterCrashWithTornLastLine) {
  auto dir = temp_dir("eval_torn");
  std::string out = (dir / "r.jsonl").string();
  ScriptedBackend full("judge-x", pairwise_judge);
  EvalReport reference = run_eval(full, pairwise_config(), pairs(6), options(out));
  std::vector<std::string> lines = lines_of(out);

  // A crash while writing line 6: five whole lines and half of the sixth.
  std::string torn;
  for (int i = 0; i < 5; ++i) torn += lines[i] + "\n";
  torn += lines[5].substr(0, lines[5].size() / 2);
  write_file(out, torn);
  std::ostringstream log;
  EvalOptions o = options(out);
  o.log = &log;
  ScriptedBackend resumed("judge-x", pairwise_judge);
  EvalReport r = run_eval(resumed, pairwise_config(), pairs(6), o);
  EXPECT_EQ(resumed.n_calls(), 7u);
  EXPECT_EQ(r.n_resumed, 5u);
  EXPECT_NE(log.str().find("torn"), std::string::npos) << log.str();
  check_unique_keys(out, 12);
  EXPECT_EQ(*r.metrics.headline, *reference.metrics.headline);

  // A whole record that lost only its newline is redone too, and not duplicated.
  std::string text = read_file(out);
  write_file(out, text.substr(0, text.size() - 1));
  ScriptedBackend again("judge-x", pairwise_judge);
  run_eval(again, pairwise_config(), pairs(6), options(out));
  EXPECT_EQ(again.n_calls(), 1u);
  check_unique_keys(out, 12);
}

TEST(Eval, DamageBeforeTheLastLineOrAnotherModelStops) {
  auto dir = temp_dir("eval_damage");
  std::string out = (dir / "r.jsonl").string();
  ScriptedBackend b("judge-x", pairwise_judge);
  run_eval(b, pairwise_config(), pairs(2), options(out));
  std::vector<std::string> lines = lines_of(out);
  write_file(out, lines[0] + "\n{not json\n" + lines[2] + "\n" + lines[3] + "\n");
  ScriptedBackend c("judge-x", pairwise_judge);
  try {
    run_eval(c, pairwise_config(), pairs(2), options(out));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("r.jsonl:2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.n_calls(), 0u);

  std::string out2 = (dir / "r2.jsonl").string();
  run_eval(b, pairwise_config(), pairs(2), options(out2));
  ScriptedBackend other("judge-y", pairwise_judge);
  EXPECT_THROW(run_eval(other, pairwise_config(), pairs(2), options(out2)), Error);
}

TEST(Eval, LimitShuffleAndNoSwap) {
  std::vector<Item> items = pairs(20);
  auto a = select_items(items, 5, 7);
  auto b = select_items(items, 5, 7);
  auto c = select_items(items, 5, 8);
  ASSERT_EQ(a.size(), 5u);
  std::vector<std::string> ia, ib, ic;
  for (size_t i = 0; i < 5; ++i) {
    ia.push_back(a[i].id);
    ib.push_back(b[i].id);
    ic.push_back(c[i].id);
  }
  EXPECT_EQ(ia, ib);
  EXPECT_NE(ia, ic);
  EXPECT_EQ(select_items(items, 3, std::nullopt)[2].id, "p2");

  auto dir = temp_dir("eval_noswap");
  ConfigOverrides ov;
  ov.swap = false;
  JudgeConfig cfg = make_config(Task::kPairwise, builtin_template(Task::kPairwise), ov);
  ScriptedBackend backend("judge-x", pairwise_judge);
  EvalOptions o = options((dir / "r.jsonl").string());
  o.limit = 4;
  EvalReport r = run_eval(backend, cfg, items, o);
  EXPECT_EQ(backend.n_calls(), 4u);
  EXPECT_EQ(r.metrics.headline_name, "accuracy");
  EXPECT_NEAR(*r.metrics.headline, 3.0 / 4, 1e-12);  // p3 says [A], its label is B
}

TEST(Eval, SelfConsistencySamplesVote) {
  Item it;
  it.id = "v1";
  it.task = Task::kVerify;
  it.instruction = "2+2?";
  it.response = "4";
  it.label = kCorrect;
  // Seeds 0 and 2 say Correct, seed 1 Incorrect, seed 3 nothing.
  ScriptedBackend backend("judge-x", [](const JudgeRequest& req) {
    JudgeCompletion c;
    const char* v[] = {"[Correct]", "[Incorrect]", "[Correct]", ""};
    c.text = std::string("Explanation: e\nVerdict: ") + v[req.generation.seed % 4];
    return c;
  });
  ConfigOverrides ov;
  ov.samples = 4;
  JudgeConfig cfg = make_config(Task::kVerify, builtin_template(Task::kVerify), ov);
  EXPECT_DOUBLE_EQ(cfg.generation.temperature, kSampledTemperature);
  auto dir = temp_dir("eval_samples");
  EvalReport r = run_eval(backend, cfg, {it}, options((dir / "r.jsonl").string()));
  EXPECT_EQ(backend.n_calls(), 4u);
  EXPECT_DOUBLE_EQ(*r.metrics.headline, 1.0);
  EXPECT_EQ(r.counts.n_invalid, 1);
  EXPECT_EQ(r.counts.invalid_reasons.at("empty verdict"), 1);

  ov.temperature = 0;
  EXPECT_THROW(make_config(Task::kVerify, builtin_template(Task::kVerify), ov), Error);
}

TEST(Eval, BackendErrorsAreInvalidJudgmentsNotCrashes) {
  ScriptedBackend backend("judge-x", std::vector<ScriptRule>{{{"good p0"}, std::nullopt, completion("Verdict: [A]")}});
  auto dir = temp_dir("eval_errors");
  EvalReport r = run_eval(backend, pairwise_config(), pairs(2), options((dir / "r.jsonl").string()));
  EXPECT_EQ(r.counts.n_backend_errors, 2);  // p1 matches no rule, in both orders
  EXPECT_EQ(r.counts.invalid_reasons.at("backend error"), 2);
  json line = json::parse(lines_of((dir / "r.jsonl").string()).back());
  EXPECT_NE(line["error"].get<std::string>().find("no rule matches"), std::string::npos);
}

TEST(Eval, OtherBackendFailuresStopTheRunAndResumeLater) {
  auto dir = temp_dir("eval_stop");
  std::string out = (dir / "r.jsonl").string();
  ScriptedBackend broken("judge-x", [](const JudgeRequest& req) {
    if (req.messages.at(1).content.find("Question p1?") != std::string::npos) fail("connection lost");
    return pairwise_judge(req);
  });
  EXPECT_THROW(run_eval(broken, pairwise_config(), pairs(3), options(out)), Error);
  EXPECT_EQ(lines_of(out).size(), 2u);  // p0's two orders; nothing recorded for p1
  ScriptedBackend fixed("judge-x", pairwise_judge);
  EvalReport r = run_eval(fixed, pairwise_config(), pairs(3), options(out));
  EXPECT_EQ(fixed.n_calls(), 4u);
  EXPECT_EQ(r.counts.n_backend_errors, 0);
  check_unique_keys(out, 6);
}

TEST(Eval, ParallelGivesTheSameJudgments) {
  auto dir = temp_dir("eval_parallel");
  ScriptedBackend b1("judge-x", pairwise_judge), b2("judge-x", pairwise_judge);
  EvalOptions seq = options((dir / "seq.jsonl").string());
  EvalOptions par = options((dir / "par.jsonl").string());
  par.parallel = 3;
  EvalReport a = run_eval(b1, pairwise_config(), pairs(10), seq);
  EvalReport b = run_eval(b2, pairwise_config(), pairs(10), par);
  EXPECT_EQ(*a.metrics.headline, *b.metrics.headline);
  std::set<std::string> ka, kb;
  for (const auto& l : lines_of(seq.output_path)) ka.insert(json::parse(l)["key"].get<std::string>() + json::parse(l)["raw"].get<std::string>());
  for (const auto& l : lines_of(par.output_path)) kb.insert(json::parse(l)["key"].get<std::string>() + json::parse(l)["raw"].get<std::string>());
  EXPECT_EQ(ka, kb);
}

TEST(Eval, ConfidenceIsRecordedInTheItemsTerms) {
  // The judge always writes "[A]" with P(A) = 0.8 at the verdict position.
  JudgeCompletion c;
  c.text = "Explanation: x\nVerdict: [A]";
  c.steps = {{"Explanation: x\nVerdict: [", 0, {}}, {"A", std::log(0.8), {{"A", std::log(0.8)}, {"B", std::log(0.2)}}},
             {"]", 0, {}}};
  ScriptedBackend backend("judge-x", std::vector<ScriptRule>{{{}, std::nullopt, c}});
  ASSERT_TRUE(backend.supports_logprobs());
  auto dir = temp_dir("eval_conf");
  EvalReport r = run_eval(backend, pairwise_config(), pairs(1), options((dir / "r.jsonl").string()));
  std::vector<std::string> lines = lines_of((dir / "r.jsonl").string());
  ASSERT_EQ(lines.size(), 2u);
  json ab = json::parse(lines[0]), ba = json::parse(lines[1]);
  EXPECT_NEAR(ab["confidence"]["probs"]["A"].get<double>(), 0.8, 1e-9);
  EXPECT_NEAR(ba["confidence"]["probs"]["B"].get<double>(), 0.8, 1e-9);  // shown as A, it is the item's B
  EXPECT_NEAR(ba["confidence"]["soft_score"].get<double>(), 0.2, 1e-9);
  EXPECT_EQ(r.counts.n_invalid, 0);
}

TEST(Eval, RealProcessBenchAndJudgeBenchSlices) {
  auto dir = temp_dir("eval_real");
  LoadResult pb = load_dataset(testing::data_path("processbench/gsm8k.json"), {});
  // A judge that knows the answer: it names the label's step. Problems repeat across solutions, so
  // the whole prompt is the key.
  std::map<std::string, int> label_of;
  for (const Item& it : pb.items)
    label_of[build_messages(builtin_template(Task::kStep), it, Order::kAsGiven)[1].content] = static_cast<int>(*it.label);
  ScriptedBackend oracle("oracle", [&](const JudgeRequest& req) {
    return completion("Explanation: checked.\nVerdict: " + std::to_string(label_of.at(req.messages.at(1).content)));
  });
  JudgeConfig cfg = make_config(Task::kStep, builtin_template(Task::kStep), {});
  EvalOptions o = options((dir / "pb.jsonl").string());
  o.limit = 40;
  o.shuffle_seed = 1;
  EvalReport r = run_eval(oracle, cfg, pb.items, o);
  EXPECT_EQ(r.n_items, 40u);
  EXPECT_DOUBLE_EQ(*r.metrics.headline, 1.0);

  LoadResult jb = load_dataset(
      testing::data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl"), {});
  ScriptedBackend always_a("always-a", [](const JudgeRequest&) { return completion("Verdict: [A]"); });
  EvalOptions oj = options((dir / "jb.jsonl").string());
  oj.limit = 10;
  EvalReport rj = run_eval(always_a, pairwise_config(), jb.items, oj);
  EXPECT_DOUBLE_EQ(*rj.metrics.headline, 0.0);  // never consistent
  EXPECT_DOUBLE_EQ(*rj.metrics.group("overall")->get("consistency_rate"), 0.0);
  double share_a = 0;
  for (size_t i = 0; i < 10; ++i) share_a += *jb.items[i].label == kOptionA;
  EXPECT_DOUBLE_EQ(*rj.metrics.group("overall")->get("accuracy_ab"), share_a / 10);
}

TEST(Progress, PlainLinesOffTerminalBarOnTerminal) {
  using Clock = Progress::Clock;
  Clock::time_point t0 = Clock::now();
  std::ostringstream plain;
  Progress p(&plain, false, 4, 10.0);
  p.advance(100, false, t0 + std::chrono::seconds(5));
  EXPECT_EQ(plain.str(), "");  // within the interval: quiet
  p.advance(100, true, t0 + std::chrono::seconds(11));
  EXPECT_NE(plain.str().find("progress: 2/4 50% ETA"), std::string::npos) << plain.str();
  EXPECT_NE(plain.str().find("1 invalid"), std::string::npos) << plain.str();
  EXPECT_EQ(plain.str().find('\r'), std::string::npos);

  std::ostringstream tty;
  Progress bar(&tty, true, 4, 10.0);
  bar.advance(10, false, t0 + std::chrono::seconds(1));
  EXPECT_NE(tty.str().find("\r[######------------------] 1/4"), std::string::npos) << tty.str();
  EXPECT_NE(tty.str().find("tok/s"), std::string::npos);
  EXPECT_EQ(format_duration(200), "3m20s");
  EXPECT_EQ(format_duration(7500), "2h05m");
}

}  // namespace
}  // namespace fare::judge
