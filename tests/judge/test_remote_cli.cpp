// `fare eval -m http://...` end to end against a scripted server in this process: the verdicts
// it answers land in the results file; a server that fails for good stops the run with a message,
// no line for the failed work, and the same command completes it once the server is back.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <sstream>

#include "mock_openai_server.h"
#include "support/run_command.h"
#include "test_util.h"

namespace fare::judge {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kJudgeBench =
    testing::data_path("judgebench/dataset=judgebench,response_model=claude-3-5-sonnet-20240620.jsonl");
constexpr const char* kVerdict = "Explanation: the first answer is right.\nVerdict: [A]";

struct CliRun {
  int rc = -1;
  std::string out, err;
};

// `fare ARGS` in `dir` with FARE_API_KEY set for it only.
CliRun fare(const std::string& args, const fs::path& dir) {
  const std::string err_path = (dir / "stderr.txt").string();
  const test::CommandRun run = test::run_command("cd '" + dir.string() + "' && FARE_API_KEY=secret-key '" +
                                                 std::string(FARE_CLI_PATH) + "' " + args + " 2>'" + err_path + "'");
  return {run.exit_code, run.out, testing::read_file(err_path)};
}

std::vector<json> records(const fs::path& path) {
  std::vector<json> out;
  if (!fs::exists(path)) return out;
  std::istringstream in(testing::read_file(path.string()));
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

// Answers with kVerdict, or with 503 while `down`.
testing::MockOpenaiServer::Script script(const std::atomic<bool>& down, std::atomic<int>& answered) {
  return [&down, &answered](const json&, int, httplib::Response& res) {
    if (down) return testing::reply_error(res, 503, "the model is being reloaded");
    ++answered;
    testing::reply_json(res, 200, testing::chat_answer(kVerdict));
  };
}

TEST(RemoteCli, EvalAgainstAServerRecordsItsVerdicts) {
  if (!fs::exists(kJudgeBench)) GTEST_SKIP() << "benchmark data missing: " << kJudgeBench;
  auto dir = testing::temp_dir("remote_cli_eval");
  std::atomic<bool> down{false};
  std::atomic<int> answered{0};
  testing::MockOpenaiServer server(script(down, answered));
  server.require_api_key("secret-key");  // the key comes from FARE_API_KEY
  CliRun r = fare("eval -m " + server.url() + " --input '" + kJudgeBench + "' --limit 3 -o r.jsonl", dir);
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.err.find("remote model mock-model at " + server.url()), std::string::npos) << r.err;
  // The model list and the six judgments.
  EXPECT_NE(r.err.find("remote: 0 retries; " + server.url() + ": 7 answered"), std::string::npos) << r.err;
  const std::vector<json> recs = records(dir / "r.jsonl");
  ASSERT_EQ(recs.size(), 6u);  // 3 pairs, both orders
  for (const json& j : recs) {
    EXPECT_EQ(j["raw"], kVerdict);
    EXPECT_EQ(j["model_id"], "mock-model");
    EXPECT_EQ(j["valid"], true);
  }
  EXPECT_EQ(answered, 6);
  // Every request named the model the server listed and asked for the verdict's alternatives.
  for (const std::string& body : server.bodies()) {
    if (body.empty()) continue;  // the model list
    const json sent = json::parse(body);
    EXPECT_EQ(sent["model"], "mock-model");
    EXPECT_EQ(sent["logprobs"], true);
  }
}

TEST(RemoteCli, AServerThatFailsForGoodStopsTheRunAndTheRerunFinishesIt) {
  if (!fs::exists(kJudgeBench)) GTEST_SKIP() << "benchmark data missing: " << kJudgeBench;
  auto dir = testing::temp_dir("remote_cli_failure");
  std::atomic<bool> down{false};
  std::atomic<int> answered{0};
  testing::MockOpenaiServer server([&](const json& body, int n, httplib::Response& res) {
    down = answered >= 2 && !fs::exists(dir / "recovered");  // down after two answers until told otherwise
    script(down, answered)(body, n, res);
  });
  server.require_api_key("secret-key");
  const std::string cmd = "eval -m " + server.url() + " --remote-model mock-model --input '" + kJudgeBench +
                          "' --limit 3 -o r.jsonl --parallel 1 --retries 2 --request-timeout 30";
  CliRun first = fare(cmd, dir);
  EXPECT_EQ(first.rc, 1) << first.err;
  EXPECT_NE(first.err.find("fare: error: a request failed 3 times (1 try and 2 retries, --retries) on " + server.url()),
            std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("HTTP 503: the model is being reloaded"), std::string::npos) << first.err;
  std::vector<json> recs = records(dir / "r.jsonl");
  ASSERT_EQ(recs.size(), 2u);  // the two answered, nothing for the failed one
  for (const json& j : recs) EXPECT_EQ(j["raw"], kVerdict);

  testing::write_file((dir / "recovered").string(), "");
  CliRun second = fare(cmd, dir);
  ASSERT_EQ(second.rc, 0) << second.err;
  EXPECT_NE(second.out.find("2 resumed, 4 new"), std::string::npos) << second.out;
  recs = records(dir / "r.jsonl");
  ASSERT_EQ(recs.size(), 6u);
  std::set<std::string> keys;
  for (const json& j : recs) {
    keys.insert(j["key"].get<std::string>());
    EXPECT_EQ(j["raw"], kVerdict);
  }
  EXPECT_EQ(keys.size(), 6u);  // no duplicates
}

}  // namespace
}  // namespace fare::judge
