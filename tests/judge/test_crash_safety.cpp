// `fare eval` killed with SIGKILL at 20 seeded random moments in a row, resumed each time, ends
// with exactly the results of a run that was never interrupted: no judgment lost, repeated or
// half-written, and the summary (r.summary.json) always whole.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "process_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kTiny = std::string(FARE_FIXTURES_DIR) + "/tiny-qwen3/tiny-qwen3-q8_0.gguf";
const std::string kJudgeBench =
    testing::data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl");
constexpr size_t kJudgments = 50;  // 25 pairs, both orders

std::vector<std::string> eval_args(const std::string& output) {
  return {"eval", "-m", kTiny, "-t", "1", "--input", kJudgeBench, "--limit", "25", "-n", "16", "-o", output};
}

double seconds_to_run(const std::vector<std::string>& args, const fs::path& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  const testing::ChildEnd end = testing::run_fare(args, dir);
  EXPECT_EQ(end.exit_code, 0) << testing::read_file((dir / "stderr.txt").string());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Where the kills fell, as far as the files tell.
struct KillTally {
  int killed = 0;           // the process was running when the signal came
  int ended_first = 0;      // it had already finished
  int before_new_line = 0;  // killed while loading, or in the prefill/decode of its first judgment
  int after_new_lines = 0;  // killed after appending at least one judgment
  int after_all_lines = 0;  // killed with every judgment written: loading, or writing the summary
  int torn_tails = 0;       // a part line was left for the resume to cut off
  int summary_checks = 0;   // the summary present after the kill, and parsed whole
};

TEST(CrashSafety, TwentyKillsInARowEndLikeAnUninterruptedRun) {
  if (!fs::exists(kTiny)) GTEST_SKIP() << "fixture model missing: " << kTiny;
  const fs::path dir = testing::temp_dir("crash_kills");
  // The reference run, and one that finds everything done (loading plus the summary): their
  // times scale the kill window to this machine and its present load.
  const double full = seconds_to_run(eval_args("reference.jsonl"), dir);
  const double startup = seconds_to_run(eval_args("reference.jsonl"), dir);
  const double per_judgment = std::max(1e-3, (full - startup) / kJudgments);
  const auto reference = testing::read_results(dir / "reference.jsonl");
  ASSERT_EQ(reference.records.size(), kJudgments);
  fs::remove(dir / "reference.summary.json");

  // The first 14 kills fall uniformly between the start and about four judgments in: they cut
  // loading, prefill, decode and the fsync of a line, a round making little progress. The last 6
  // fall within a tenth of the expected end of what is left: the last judgment, the summary
  // write, or just after the process ended.
  std::mt19937_64 rng(18);  // fixed seed: the same moments, relative to the machine's speed
  std::uniform_real_distribution<double> early(0.0, 1.0), late(0.9, 1.1);
  KillTally tally;
  const fs::path out = dir / "r.jsonl";
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(::testing::Message() << "round " << round);
    const size_t lines_before = testing::read_results(out).records.size();
    const double remaining = startup + static_cast<double>(kJudgments - lines_before) * per_judgment;
    const double delay = round < 14 ? early(rng) * (startup + 4 * per_judgment) : late(rng) * remaining;
    const pid_t pid = testing::spawn_fare(eval_args("r.jsonl"), dir);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
    kill(pid, SIGKILL);
    const testing::ChildEnd end = testing::wait_child(pid);
    ASSERT_TRUE(end.killed || end.exit_code == 0) << testing::read_file((dir / "stderr.txt").string());
    const auto now = testing::read_results(out);
    ASSERT_TRUE(now.all_lines_parse);
    ASSERT_EQ(testing::by_key(now.records).size(), now.records.size()) << "a judgment was written twice";
    tally.killed += end.killed;
    tally.ended_first += !end.killed;
    if (end.killed && lines_before == kJudgments) {
      ++tally.after_all_lines;
    } else if (end.killed) {
      (now.records.size() > lines_before ? tally.after_new_lines : tally.before_new_line) += 1;
    }
    tally.torn_tails += !now.torn_tail.empty();
    if (fs::exists(dir / "r.summary.json")) {
      EXPECT_NO_THROW(json::parse(testing::read_file((dir / "r.summary.json").string())));
      ++tally.summary_checks;
    }
  }
  std::printf("20 kills: %d hit a running process (%d before its first new line, %d after one, %d with all "
              "lines written), %d came after it ended; %d torn tails; the summary parsed whole %d times\n",
              tally.killed, tally.before_new_line, tally.after_new_lines, tally.after_all_lines, tally.ended_first,
              tally.torn_tails, tally.summary_checks);
  // The window is scaled from this machine's own timings; most kills must find work in progress,
  // or the test would not be testing crashes.
  EXPECT_GE(tally.killed, 10);

  ASSERT_EQ(testing::run_fare(eval_args("r.jsonl"), dir).exit_code, 0)
      << testing::read_file((dir / "stderr.txt").string());
  const auto final = testing::read_results(out);
  EXPECT_TRUE(final.all_lines_parse);
  EXPECT_TRUE(final.torn_tail.empty());
  EXPECT_EQ(final.records.size(), kJudgments);  // no judgment lost or repeated
  EXPECT_EQ(testing::by_key(final.records), testing::by_key(reference.records));
  const json summary = json::parse(testing::read_file((dir / "r.summary.json").string()));
  EXPECT_EQ(summary["complete"], true);
  EXPECT_EQ(summary["judgments"]["judgments"], kJudgments);
}

}  // namespace
}  // namespace fare::judge
