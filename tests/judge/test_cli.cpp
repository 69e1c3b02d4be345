// The judge subcommands end to end: scripted replies for exact checks, the tiny random-weight
// model for the real path (its verdicts are all invalid, which the summary must count).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/derived_models.h"
#include "support/run_command.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kTiny = std::string(FARE_FIXTURES_DIR) + "/tiny-qwen3/tiny-qwen3-q8_0.gguf";
const std::string kJudgeBench =
    testing::data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl");

struct CliRun {
  int rc = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

CliRun fare(const std::string& args, const fs::path& dir) {
  const std::string err_path = (dir / "stderr.txt").string();
  const test::CommandRun run = test::run_command("cd '" + dir.string() + "' && '" + std::string(FARE_CLI_PATH) + "' " +
                                                 args + " 2>'" + err_path + "'");
  return {run.exit_code, run.out, testing::read_file(err_path)};
}

std::vector<json> records(const fs::path& path) {
  std::vector<json> out;
  std::istringstream in(testing::read_file(path.string()));
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

size_t unique_keys(const std::vector<json>& recs) {
  std::set<std::string> keys;
  for (const json& r : recs) keys.insert(r.at("key").get<std::string>());
  return keys.size();
}

TEST(JudgeCli, EverySubcommandHasHelp) {
  auto dir = testing::temp_dir("cli_help");
  for (const char* sub : {"judge", "eval", "rerank"}) {
    CliRun r = fare(std::string(sub) + " --help", dir);
    EXPECT_EQ(r.rc, 0) << sub;
    EXPECT_NE(r.out.find("--model"), std::string::npos) << sub;
  }
}

TEST(JudgeCli, ScriptedEvalResumesATornFile) {
  auto dir = testing::temp_dir("cli_scripted");
  testing::write_file((dir / "rules.jsonl").string(), R"({"output": "Explanation: x\nVerdict: [A]"})" "\n");
  std::string cmd = "eval -m scripted:rules.jsonl --input '" + kJudgeBench + "' --limit 5 -o r.jsonl --report";
  CliRun first = fare(cmd, dir);
  ASSERT_EQ(first.rc, 0) << first.err;
  EXPECT_NE(first.out.find("headline: accuracy_consistent = 0.00%"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("report: r.report.html"), std::string::npos) << first.out;
  fs::remove(dir / "r.report.html");
  std::vector<json> recs = records(dir / "r.jsonl");
  ASSERT_EQ(recs.size(), 10u);

  std::string text = testing::read_file((dir / "r.jsonl").string());
  testing::write_file((dir / "r.jsonl").string(), text.substr(0, text.size() - 40));
  CliRun second = fare(cmd, dir);
  ASSERT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.err.find("torn"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("9 resumed, 1 new"), std::string::npos) << second.out;
  EXPECT_TRUE(fs::exists(dir / "r.report.html"));  // the resumed run writes its report again
  recs = records(dir / "r.jsonl");
  EXPECT_EQ(recs.size(), 10u);
  EXPECT_EQ(unique_keys(recs), 10u);
  json summary = json::parse(testing::read_file((dir / "r.summary.json").string()));
  EXPECT_EQ(summary["judgments"]["judgments"], 10);
  EXPECT_EQ(summary["dataset"], "judgebench");
}

TEST(JudgeCli, JudgeJsonAndBadInput) {
  auto dir = testing::temp_dir("cli_judge");
  testing::write_file((dir / "rules.jsonl").string(),
                      R"({"contains": "A's Answer]\n56", "output": "Explanation: right.\nVerdict: [A]"})" "\n"
                      R"({"output": "Explanation: right.\nVerdict: [B]"})" "\n");
  CliRun r = fare("judge -m scripted:rules.jsonl --task pairwise -i 'What is 7*8?' -a 56 -b 54 --json", dir);
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j["decisions"].size(), 2u);
  EXPECT_EQ(j["decisions"][0]["verdict"], "A");
  EXPECT_EQ(j["decisions"][1]["verdict"], "A");  // the model's [B] on the swapped pair
  EXPECT_EQ(j["judgments"][1]["verdict_as_shown"], "B");

  testing::write_file((dir / "items.jsonl").string(),
                      R"({"id":"a","instruction":"q","response_a":"56","response_b":"5","label":"A"})" "\n"
                      R"({"id":"b","instruction":"q","response_a":"56","response_b":"5","label":"A=B"})" "\n");
  CliRun lenient = fare("eval -m scripted:rules.jsonl --input items.jsonl -o e.jsonl", dir);
  ASSERT_EQ(lenient.rc, 0) << lenient.err;
  EXPECT_NE(lenient.err.find("items.jsonl:2: field 'label' is \"A=B\""), std::string::npos) << lenient.err;
  CliRun strict = fare("eval -m scripted:rules.jsonl --input items.jsonl -o s.jsonl --strict", dir);
  EXPECT_EQ(strict.rc, 1);
  EXPECT_NE(strict.err.find("items.jsonl:2"), std::string::npos) << strict.err;
}

// --reasoning-effort: recorded for gpt-oss models (here micro-qwen3's weights with harmony's
// template and tokens) and for backends that cannot tell their family, refused for Qwen3.
TEST(JudgeCli, ReasoningEffortIsRecordedForHarmonyAndRefusedForQwen3) {
  auto dir = testing::temp_dir("cli_effort");
  const std::string verify = " --task verify -i '2+2?' -r 4 --max-tokens 8 ";
  const std::string harmony = test::micro_harmony_hf();
  CliRun h = fare("judge -m '" + harmony + "'" + verify + "--reasoning-effort low --json", dir);
  ASSERT_EQ(h.rc, 0) << h.err;
  const json hj = json::parse(h.out);
  EXPECT_EQ(hj["config"]["reasoning_effort"], "low");
  EXPECT_EQ(hj["judgments"][0]["reasoning_effort"], "low");
  EXPECT_EQ(hj["judgments"][0]["model_family"], "harmony");
  EXPECT_TRUE(hj["judgments"][0]["raw"].get<std::string>().starts_with("<think>")) << hj["judgments"][0]["raw"];
  CliRun readable = fare("judge -m '" + harmony + "'" + verify + "--reasoning-effort high", dir);
  ASSERT_EQ(readable.rc, 0) << readable.err;
  EXPECT_NE(readable.out.find(", reasoning effort high"), std::string::npos) << readable.out;

  CliRun q = fare("judge -m '" + test::fixture("micro-qwen3/hf-bf16") + "'" + verify + "--reasoning-effort high", dir);
  EXPECT_EQ(q.rc, 1);
  EXPECT_NE(q.err.find("is a setting of gpt-oss (harmony) models; this model's chat template is qwen3"),
            std::string::npos) << q.err;
  EXPECT_NE(fare("judge -m scripted:x.jsonl" + verify + "--reasoning-effort extreme", dir).rc, 0);

  testing::write_file((dir / "rules.jsonl").string(), R"({"output": "Explanation: x\nVerdict: [Correct]"})" "\n");
  CliRun s = fare("judge -m scripted:rules.jsonl" + verify + "--reasoning-effort medium --json", dir);
  ASSERT_EQ(s.rc, 0) << s.err;
  EXPECT_EQ(json::parse(s.out)["judgments"][0]["reasoning_effort"], "medium");
  EXPECT_EQ(json::parse(s.out)["judgments"][0]["model_family"], nullptr);

  // eval: the summary and the report say which family and effort.
  testing::write_file((dir / "items.jsonl").string(), R"({"id":"a","instruction":"2+2?","response":"4","label":true})" "\n");
  CliRun e = fare("eval -m '" + harmony + "' --task verify --input items.jsonl -o h.jsonl --max-tokens 8 "
                  "--reasoning-effort high --report", dir);
  ASSERT_EQ(e.rc, 0) << e.err;
  const json summary = json::parse(testing::read_file((dir / "h.summary.json").string()));
  EXPECT_EQ(summary["model_family"], "harmony");
  EXPECT_EQ(summary["config"]["reasoning_effort"], "high");
  const std::string html = testing::read_file((dir / "h.report.html").string());
  EXPECT_NE(html.find("<dt>model family</dt><dd>harmony</dd>"), std::string::npos);
  EXPECT_NE(html.find("<dt>reasoning_effort</dt><dd>high</dd>"), std::string::npos);
}

TEST(JudgeCli, ReportRefusesBadInputWithAMessage) {
  auto dir = testing::temp_dir("cli_report");
  testing::write_file((dir / "rules.jsonl").string(), R"({"output": "Explanation: x\nVerdict: [A]"})" "\n");
  ASSERT_EQ(fare("eval -m scripted:rules.jsonl --input '" + kJudgeBench + "' --limit 3 -o a.jsonl", dir).rc, 0);
  CliRun missing = fare("report nowhere.jsonl", dir);
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("nowhere.jsonl: cannot open the results file"), std::string::npos) << missing.err;

  std::string text = testing::read_file((dir / "a.jsonl").string());
  testing::write_file((dir / "bad.jsonl").string(), text.substr(0, text.find('\n') + 1) + "not json\n");
  CliRun bad = fare("report bad.jsonl", dir);
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.err.find("bad.jsonl:2: not a JSON line"), std::string::npos) << bad.err;

  ASSERT_EQ(fare("eval -m scripted:rules.jsonl --input '" + testing::data_path("processbench/gsm8k.json") +
                     "' --limit 2 -o pb.jsonl",
                 dir).rc,
            0);
  CliRun tasks = fare("report a.jsonl pb.jsonl", dir);
  EXPECT_EQ(tasks.rc, 1);
  EXPECT_NE(tasks.err.find("only runs of one task can be compared"), std::string::npos) << tasks.err;
  CliRun three = fare("report a.jsonl a.jsonl a.jsonl", dir);
  EXPECT_NE(three.rc, 0);
}

TEST(JudgeCli, TinyModelJudgeBenchAndProcessBenchResume) {
  if (!fs::exists(kTiny)) GTEST_SKIP() << "fixture model missing: " << kTiny;
  auto dir = testing::temp_dir("cli_tiny");
  struct Case {
    std::string input, out, summary;
    size_t judgments;
  };
  // Each results file gets its own summary, so the second evaluation does not overwrite the first's.
  for (const Case& c : {Case{kJudgeBench, "jb.jsonl", "jb.summary.json", 6},
                        Case{testing::data_path("processbench/gsm8k.json"), "pb.jsonl", "pb.summary.json", 3}}) {
    std::string cmd = "eval -m '" + kTiny + "' -t 2 --input '" + c.input + "' --limit 3 -n 8 -o " + c.out;
    CliRun first = fare(cmd, dir);
    ASSERT_EQ(first.rc, 0) << first.err;
    std::vector<json> recs = records(dir / c.out);
    ASSERT_EQ(recs.size(), c.judgments);
    // Drop the last record and tear the one before, as a kill mid-write would.
    std::string text = testing::read_file((dir / c.out).string());
    size_t cut = text.rfind('\n', text.size() - 2);
    testing::write_file((dir / c.out).string(), text.substr(0, cut - 10));
    CliRun again = fare(cmd, dir);
    ASSERT_EQ(again.rc, 0) << again.err;
    recs = records(dir / c.out);
    EXPECT_EQ(recs.size(), c.judgments);
    EXPECT_EQ(unique_keys(recs), c.judgments);
    json summary = json::parse(testing::read_file((dir / c.summary).string()));
    EXPECT_EQ(summary["judgments"]["judgments"], c.judgments);
    // Random weights never write a usable verdict; every one is counted as invalid.
    EXPECT_EQ(summary["judgments"]["invalid"], c.judgments);
    EXPECT_EQ(summary["complete"], true);
  }
  json first = json::parse(testing::read_file((dir / "jb.summary.json").string()));
  EXPECT_EQ(first["task"], "pairwise");  // still the first evaluation's
  EXPECT_FALSE(fs::exists(dir / "summary.json"));
}

size_t line_count(const fs::path& path) {
  if (!fs::exists(path)) return 0;
  const std::string text = testing::read_file(path.string());
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// A real crash: SIGKILL while judgments are being written, then the same command again.
TEST(JudgeCli, KilledMidRunResumesToExactlyOneLinePerJudgment) {
  if (!fs::exists(kTiny)) GTEST_SKIP() << "fixture model missing: " << kTiny;
  auto dir = testing::temp_dir("cli_kill");
  const fs::path out = dir / "k.jsonl";
  const std::vector<std::string> args = {FARE_CLI_PATH, "eval", "-m", kTiny, "-t", "1", "--input", kJudgeBench,
                                         "--limit", "6", "-n", "48", "-o", out.string()};
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (line_count(out) < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before it could be killed";
  const size_t before = line_count(out);
  ASSERT_GE(before, 2u);
  ASSERT_LT(before, 12u);  // killed mid-run: 6 pairs x 2 orders were planned

  std::string cmd = "eval -m '" + kTiny + "' -t 1 --input '" + kJudgeBench + "' --limit 6 -n 48 -o k.jsonl";
  CliRun again = fare(cmd, dir);
  ASSERT_EQ(again.rc, 0) << again.err;
  std::vector<json> recs = records(out);
  EXPECT_EQ(recs.size(), 12u);
  EXPECT_EQ(unique_keys(recs), 12u);
  json summary = json::parse(testing::read_file((dir / "k.summary.json").string()));
  EXPECT_EQ(summary["judgments"]["judgments"], 12);
  EXPECT_EQ(summary["judgments"]["invalid"], 12);  // random weights write no verdict; each is counted
}

}  // namespace
}  // namespace fare::judge
