// `fare serve` as a process: it prints its port, and SIGTERM ends it with 0. And
// `fare eval -m URL,URL` against two `fare serve` processes, one killed with SIGKILL mid-run: the
// run finishes on the other, loses and duplicates nothing, reports its retries, and its records
// equal a run on the local model (greedy decoding and exact kernels: the same text, verdicts and
// keys whichever process computed them).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "server_fixture.h"

namespace fare::server::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(err.c_str(), "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(126);
    std::vector<char*> argv{const_cast<char*>(FARE_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(FARE_CLI_PATH, argv.data());
    _exit(127);
  }
  return pid;
}

struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
};

ServeProcess start_server(const fs::path& dir, const std::string& name) {
  const fs::path err = dir / (name + ".stderr");
  ServeProcess p;
  p.pid = spawn({"serve", "-m", test::fixture("micro-qwen3/hf-bf16"), "--port", "0", "-t", "1", "-c", "4096"}, err);
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string text = slurp(err);
    std::smatch m;
    if (std::regex_search(text, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)"))) p.port = std::stoi(m[1]);
    if (text.find("serve: ready") != std::string::npos) return p;
  }
  ADD_FAILURE() << name << " did not start: " << slurp(err);
  return p;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<json> lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(ServeCommand, PrintsItsPortServesAndExitsZeroOnSigterm) {
  const std::string err = ::testing::TempDir() + "serve_stderr.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    freopen(err.c_str(), "w", stderr);
    execl(FARE_CLI_PATH, FARE_CLI_PATH, "serve", "-m", test::fixture("micro-qwen3/hf-bf16").c_str(), "--port", "0", "-t", "2",
          "-c", "512", static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(err);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    std::smatch m;
    if (!port && std::regex_search(text, m, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)"))) port = std::stoi(m[1]);
    ready = text.find("serve: ready") != std::string::npos;
  }
  ASSERT_TRUE(ready && port > 0);
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/v1/chat/completions",
                  json({{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 3}}).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(TwoServers, EvalSurvivesOneKilledAndEqualsALocalRun) {
  const fs::path dir = fs::path(::testing::TempDir()) / "two-servers";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string input = std::string(FARE_DATA_DIR) + "/judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl";
  const std::vector<std::string> common = {"--input", input, "--limit", "24", "-n", "48", "--parallel", "4"};

  ServeProcess a = start_server(dir, "a"), b = start_server(dir, "b");
  ASSERT_GT(a.port, 0);
  ASSERT_GT(b.port, 0);
  std::vector<std::string> remote = {"eval", "-m", "http://127.0.0.1:" + std::to_string(a.port) + "/v1",
                                     "-m", "http://127.0.0.1:" + std::to_string(b.port) + "/v1",
                                     "-o", (dir / "remote.jsonl").string(), "--retries", "8"};
  remote.insert(remote.end(), common.begin(), common.end());
  const pid_t eval = spawn(remote, dir / "remote.stderr");

  // Kill b once a few judgments are written, while most are still to come.
  size_t written_at_kill = 0;
  for (int i = 0; i < 3000 && written_at_kill < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    written_at_kill = lines(dir / "remote.jsonl").size();
  }
  kill(b.pid, SIGKILL);
  wait_exit(b.pid);
  const int code = wait_exit(eval);
  const std::string log = slurp(dir / "remote.stderr");
  EXPECT_EQ(code, 0) << log;
  kill(a.pid, SIGTERM);
  EXPECT_EQ(wait_exit(a.pid), 0);

  const auto got = lines(dir / "remote.jsonl");
  ASSERT_EQ(got.size(), 48u) << log;  // 24 pairs, both orders
  EXPECT_LT(written_at_kill, got.size()) << "the run ended before the kill: nothing was tested";
  std::map<std::string, json> by_key;
  for (const json& j : got) EXPECT_TRUE(by_key.emplace(j["key"], j).second) << "duplicate " << j["key"];
  EXPECT_NE(log.find("remote: "), std::string::npos) << log;  // the end-of-run line with the retries
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("remote: (\\d+) retries"))) << log;

  std::vector<std::string> local = {"eval", "-m", test::fixture("micro-qwen3/hf-bf16"), "-t", "2", "-c", "4096",
                                    "-o", (dir / "local.jsonl").string()};
  local.insert(local.end(), common.begin(), common.end());
  ASSERT_EQ(wait_exit(spawn(local, dir / "local.stderr")), 0) << slurp(dir / "local.stderr");
  const auto want = lines(dir / "local.jsonl");
  ASSERT_EQ(want.size(), 48u);
  for (const json& w : want) {
    auto it = by_key.find(w["key"]);
    ASSERT_NE(it, by_key.end()) << "missing " << w["key"];
    for (const char* k : {"raw", "valid", "verdict", "invalid_reason", "prompt_tokens", "completion_tokens"})
      EXPECT_EQ(it->second.value(k, json()), w.value(k, json())) << k << " of " << w["key"];
  }
}

}  // namespace
}  // namespace fare::server::testing
