// LocalBackend on the tiny random-weight model: the text is gibberish, but the plumbing (chat
// rendering, token accounting, per-step texts that line up with the output) must hold.
#include "judge/local_backend.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "engine/engine.h"
#include "judge/judge.h"

namespace fare::judge {
namespace {

const std::string kTiny = std::string(FARE_FIXTURES_DIR) + "/tiny-qwen3/tiny-qwen3-q8_0.gguf";

EngineOptions options(int threads, int ctx) {
  EngineOptions o;
  o.n_threads = threads;
  o.n_ctx = ctx;
  return o;
}

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTiny)) GTEST_SKIP() << "fixture model missing: " << kTiny;
    backend_ = LocalBackend::open(kTiny, options(2, 2048));
  }
  std::unique_ptr<LocalBackend> backend_;
};

JudgeRequest request(int max_tokens, int top_logprobs, std::optional<bool> think) {
  JudgeRequest r;
  r.messages = {{"system", "You are a judge."}, {"user", "Which is better, [A] or [B]?"}};
  r.generation.max_tokens = max_tokens;
  r.top_logprobs = top_logprobs;
  r.think = think;
  return r;
}

TEST_F(LocalBackendTest, StepsConcatenateToTheText) {
  JudgeCompletion c = backend_->complete(request(24, 5, false));
  EXPECT_GT(c.prompt_tokens, 10);
  EXPECT_GT(c.completion_tokens, 0);
  EXPECT_LE(c.completion_tokens, 24);
  ASSERT_EQ(c.steps.size(), static_cast<size_t>(c.completion_tokens));
  std::string joined;
  for (const TokenStep& s : c.steps) {
    joined += s.text;
    EXPECT_LE(s.top.size(), 5u);
    EXPECT_LE(s.logprob, 0.0);
  }
  EXPECT_EQ(joined, c.text);
  EXPECT_TRUE(c.finish_reason == "length" || c.finish_reason == "eos") << c.finish_reason;
}

TEST_F(LocalBackendTest, ThinkingSwitchChangesThePromptAndGreedyRepeats) {
  JudgeCompletion off = backend_->complete(request(4, 0, false));
  JudgeCompletion on = backend_->complete(request(4, 0, true));
  // enable_thinking=false appends "<think>\n\n</think>\n\n" to the prompt.
  EXPECT_GT(off.prompt_tokens, on.prompt_tokens);
  EXPECT_TRUE(off.steps.empty());
  EXPECT_EQ(backend_->complete(request(4, 0, false)).text, off.text);
  EXPECT_EQ(backend_->model_id(), "tiny-qwen3-q8_0.gguf");
}

// The engine options the CLI passes (--kernels, --kv-cache) reach the engine.
TEST_F(LocalBackendTest, EngineOptionsReachTheEngine) {
  EngineOptions o = options(2, 256);
  o.kernels = "no-such-set";
  try {
    LocalBackend::open(kTiny, o);
    FAIL() << "an unknown kernel set was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown kernel set 'no-such-set'"), std::string::npos) << e.what();
  }
  o.kernels = "reference";
  o.kv_cache = "f8";
  EXPECT_THROW(LocalBackend::open(kTiny, o), Error);
}

TEST_F(LocalBackendTest, PromptLongerThanContextIsAnInvalidJudgment) {
  auto small = LocalBackend::open(kTiny, options(2, 64));
  Item item;
  item.id = "long";
  item.task = Task::kVerify;
  item.instruction = "q";
  item.response = std::string(2000, 'x');
  JudgeConfig cfg = make_config(Task::kVerify, builtin_template(Task::kVerify), {});
  ItemResult r = judge_item(*small, cfg, item);
  ASSERT_EQ(r.judgments.size(), 1u);
  EXPECT_FALSE(r.judgments[0].valid);
  EXPECT_EQ(r.judgments[0].verdict.invalid_reason, kReasonBackendError);
  EXPECT_NE(r.judgments[0].error.find("context"), std::string::npos) << r.judgments[0].error;
}

}  // namespace
}  // namespace fare::judge
