// The generation loop on the fixture models: determinism, stop conditions, streaming,
// log-probabilities, context limits, concurrency and input errors.
#include "engine/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "ops/kernels.h"
#include "support/derived_models.h"

namespace fare {
namespace {

namespace fs = std::filesystem;

const std::string kTiny = test::fixture("tiny-qwen3/hf-bf16");
const std::string kMicro = test::fixture("micro-qwen3/hf-bf16");

EngineOptions threads_ctx(int n_threads, int n_ctx = 0) {
  EngineOptions o;
  o.n_threads = n_threads;
  o.n_ctx = n_ctx;
  return o;
}

const Engine& micro() {
  static auto e = Engine::open(kMicro, threads_ctx(2));
  return *e;
}

GenerateRequest greedy(const std::vector<int32_t>& prompt, int n) {
  GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = n;
  r.stop_at_eos = false;
  return r;
}

std::vector<int32_t> prompt_ids() { return micro().tokenize("The judge reads both answers and", false); }

TEST(Engine, GreedyIsDeterministicAndSeededSamplingRepeats) {
  const auto p = prompt_ids();
  EXPECT_EQ(micro().generate(greedy(p, 12)).tokens, micro().generate(greedy(p, 12)).tokens);
  auto sampled = [&](uint64_t seed) {
    auto r = greedy(p, 24);
    r.sampling = {.temperature = 1.5f, .top_p = 0.95f, .seed = seed};
    return micro().generate(r).tokens;
  };
  EXPECT_EQ(sampled(11), sampled(11));
  EXPECT_NE(sampled(11), sampled(12));
}

TEST(Engine, StopStringCutsTheTextBeforeIt) {
  const auto p = prompt_ids();
  const auto full = micro().generate(greedy(p, 24));
  ASSERT_GE(full.text.size(), 12u);
  const std::string stop = full.text.substr(8, 3);
  auto r = greedy(p, 24);
  r.stop = {"a string that never occurs", stop};
  const auto cut = micro().generate(r);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_LT(cut.tokens.size(), full.tokens.size());
}

TEST(Engine, StreamedPiecesConcatenateToTheTextAndCanCancel) {
  const auto p = prompt_ids();
  auto r = greedy(p, 20);
  r.stop = {"zzzz"};  // forces hold-back of possible stop prefixes
  std::string streamed;
  int calls = 0;
  const auto res = micro().generate(r, [&](const std::string& piece, const GeneratedStep&) {
    streamed += piece;
    ++calls;
    return true;
  });
  EXPECT_EQ(streamed, res.text);
  EXPECT_EQ(calls, 20);
  const auto cancelled = micro().generate(greedy(p, 20), [&](const std::string&, const GeneratedStep&) { return false; });
  EXPECT_EQ(cancelled.finish_reason, "cancelled");
  EXPECT_EQ(cancelled.tokens.size(), 1u);
}

TEST(Engine, MaxTokensZeroGeneratesNothing) {
  const auto res = micro().generate(greedy(prompt_ids(), 0));
  EXPECT_TRUE(res.tokens.empty());
  EXPECT_EQ(res.finish_reason, "length");
}

TEST(Engine, DecodeStepsAgreeWithOneBatchedPass) {
  // The KV cache path (one token at a time) against a single teacher-forced pass, on the exact
  // kernels: the default ones round a decoded token's activations (int8) and a prompt's (int8 or
  // bf16 tiles) each their own way.
  EngineOptions o = threads_ctx(2);
  o.kernels = "exact";
  const auto e = Engine::open(kMicro, o);
  auto r = greedy(prompt_ids(), 10);
  r.top_logprobs = 5;
  const auto res = e->generate(r);
  std::vector<int32_t> all = r.prompt;
  all.insert(all.end(), res.tokens.begin(), res.tokens.end());
  const auto rows = e->prompt_logprobs(all, 5);
  for (size_t j = 0; j < res.steps.size(); ++j) {
    const auto& step = res.steps[j];
    const auto& row = rows[r.prompt.size() - 1 + j];
    EXPECT_EQ(step.top[0].id, step.id);  // greedy picks the most likely token
    EXPECT_FLOAT_EQ(step.top[0].logprob, step.logprob);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(step.top[i].id, row[i].id) << "step " << j;
      // Batched and one-at-a-time float32 sums differ in order only: 1e-4 in log-prob.
      EXPECT_NEAR(step.top[i].logprob, row[i].logprob, 1e-4) << "step " << j;
    }
  }
}

TEST(Engine, MicroBatchSplitsThePromptNotTheResult) {
  // The prompt in passes of 5 tokens (the last one short) against the default single pass.
  EngineOptions o = threads_ctx(2);
  o.micro_batch = 5;
  auto e = Engine::open(kMicro, o);
  EXPECT_EQ(e->micro_batch(), 5);
  EXPECT_EQ(micro().micro_batch(), 512);  // BF16 weights
  std::vector<int32_t> p = prompt_ids();
  const auto more = micro().tokenize(" then writes its verdict in brackets", false);
  p.insert(p.end(), more.begin(), more.end());
  ASSERT_GT(p.size() % 5, 0u);
  const auto split = e->prompt_logprobs(p, 5), whole = micro().prompt_logprobs(p, 5);
  ASSERT_EQ(split.size(), whole.size());
  for (size_t k = 0; k < p.size(); ++k)
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(split[k][i].id, whole[k][i].id) << "position " << k;
      // Attention sums its key tiles in another order across passes: 1e-4 in log-prob.
      EXPECT_NEAR(split[k][i].logprob, whole[k][i].logprob, 1e-4) << "position " << k;
    }
  EXPECT_EQ(e->generate(greedy(p, 6)).tokens, micro().generate(greedy(p, 6)).tokens);
  o.micro_batch = -1;
  EXPECT_THROW(Engine::open(kMicro, o), Error);
}

// "auto" stores the cache as F16 under kernels that round activations (as llama.cpp does), as F32
// under exact ones; a named type is taken as given.
TEST(Engine, KvCacheAutoFollowsTheKernels) {
  EngineOptions o = threads_ctx(1, 64);
  for (const char* k : {"reference", "exact", "fast"}) {
    o.kernels = k;
    const auto e = Engine::open(kMicro, o);
    EXPECT_EQ(e->kv_cache(), select_kernels(k).exact ? "f32" : "f16") << k;
  }
  o.kernels = "reference";
  o.kv_cache = "bf16";
  EXPECT_EQ(Engine::open(kMicro, o)->kv_cache(), "bf16");
  o.kv_cache = "f8";
  EXPECT_THROW(Engine::open(kMicro, o), Error);
}

TEST(Engine, StopsAtTheModelsEosIds) {
  // A copy of the model whose generation_config names the third greedy token as EOS.
  const auto p = prompt_ids();
  const auto free_run = micro().generate(greedy(p, 8));
  const fs::path dir = fs::path(test::scratch_dir()) / "micro-eos";
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fs::path(kMicro) / f, dir / f, fs::copy_options::overwrite_existing);
  std::ofstream(dir / "generation_config.json") << "{\"eos_token_id\": [" << free_run.tokens[2] << "]}";
  auto e = Engine::open(dir.string(), threads_ctx(1));
  auto r = greedy(p, 8);
  r.stop_at_eos = true;
  const auto res = e->generate(r);
  EXPECT_EQ(res.finish_reason, "eos");
  ASSERT_EQ(res.tokens.size(), 3u);
  EXPECT_EQ(res.text, micro().detokenize({free_run.tokens[0], free_run.tokens[1]}));
}

// gpt-oss stops at <|return|> and <|call|> (its generation_config.json lists both); a harmony
// model's files may name neither, so the loader adds them. Qwen3's ids stay as its files say.
TEST(Engine, HarmonyModelStopsAtReturnAndCall) {
  EXPECT_EQ(micro().eos_ids(), (std::vector<int32_t>{4096, 4098}));
  auto hf = Engine::open(test::micro_harmony_hf(), threads_ctx(1));
  EXPECT_EQ(hf->info().chat_family, "harmony");
  EXPECT_EQ(hf->tokenizer().find("<|return|>"), 4101);
  EXPECT_EQ(hf->tokenizer().find("<|call|>"), 4107);
  EXPECT_EQ(hf->eos_ids(), (std::vector<int32_t>{4096, 4101, 4107}));
  auto gguf = Engine::open(test::micro_harmony_gguf(), threads_ctx(1));
  EXPECT_EQ(gguf->info().chat_family, "harmony");
  EXPECT_EQ(gguf->eos_ids(), (std::vector<int32_t>{4096, 4098, 4101, 4107}));
}

// The harmony markers are special tokens, and a generation's text holds them as their text: the
// output is parsed from it (tokenizer/harmony_output.h).
TEST(Engine, HarmonyMarkersComeOutAsTheirText) {
  auto e = Engine::open(test::micro_harmony_hf(), threads_ctx(1));
  const std::vector<int32_t> prompt = e->chat_prompt({{"user", "Hi", std::nullopt, ""}}, {});
  EXPECT_EQ(prompt.front(), *e->tokenizer().find("<|start|>"));
  bool saw_marker = false;
  // Near-uniform sampling over 4224 ids: a marker turns up within a few seeds.
  for (uint64_t seed = 1; seed <= 40 && !saw_marker; ++seed) {
    GenerateRequest r = greedy(prompt, 256);
    r.sampling.temperature = 100;
    r.sampling.seed = seed;
    std::string streamed;
    const GenerateResult res = e->generate(r, [&](const std::string& piece, const GeneratedStep&) {
      streamed += piece;
      return true;
    });
    EXPECT_EQ(streamed, res.text);
    // Every marker generated is in the text, in order (other bytes may differ: an invalid UTF-8
    // sequence comes out as U+FFFD).
    size_t at = 0;
    for (int32_t id : res.tokens) {
      if (id < 4101 || id > 4107) continue;
      saw_marker = true;
      at = res.text.find(e->tokenizer().token_text(id), at);
      ASSERT_NE(at, std::string::npos) << id;
      ++at;
    }
  }
  EXPECT_TRUE(saw_marker);
}

TEST(Engine, ContextLimitEndsGenerationAndRejectsLongPrompts) {
  auto e = Engine::open(kMicro, threads_ctx(1, 8));
  const std::vector<int32_t> six = {1, 2, 3, 4, 5, 6};
  const auto res = e->generate(greedy(six, 50));
  EXPECT_EQ(res.finish_reason, "length");
  EXPECT_EQ(res.tokens.size(), 3u);  // positions 6 and 7 are filled; the third token needs none
  EXPECT_THROW(e->generate(greedy(std::vector<int32_t>(9, 1), 1)), Error);
}

TEST(Engine, ConcurrentGenerationsMatchSequentialOnes) {
  const auto p = prompt_ids();
  const auto want = micro().generate(greedy(p, 10)).tokens;
  std::vector<std::vector<int32_t>> got(3);
  std::vector<std::thread> threads;
  for (auto& g : got) threads.emplace_back([&] { g = micro().generate(greedy(p, 10)).tokens; });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, want);
}

TEST(Engine, RejectsBadInput) {
  EXPECT_THROW(micro().generate(greedy({}, 4)), Error);
  EXPECT_THROW(micro().generate(greedy({1, 999999}, 4)), Error);
  auto r = greedy({1, 2}, 4);
  r.sampling.top_p = 0;
  EXPECT_THROW(micro().generate(r), Error);
  EXPECT_THROW(micro().prompt_logprobs({1, -3}, 2), Error);
  EXPECT_THROW(Engine::open("/nonexistent/model"), Error);
}

TEST(Engine, ChatPromptUsesTheTemplateAndSpecialIds) {
  const std::vector<ChatMessage> msgs = {{"user", "Hi", std::nullopt, ""}};
  ChatOptions no_think;
  no_think.enable_thinking = false;
  const auto text = micro().render_chat(msgs, no_think);
  EXPECT_EQ(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  const auto ids = micro().chat_prompt(msgs, {});
  EXPECT_EQ(ids.front(), *micro().tokenizer().find("<|im_start|>"));
}

TEST(Engine, ChatTemplateFileReplacesTheModelsOwn) {
  const std::string file = test::scratch_dir() + "/chatml.jinja";
  std::ofstream(file) << "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                         "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  auto e = Engine::open(kMicro, {.n_threads = 1, .chat_template_file = file});
  EXPECT_EQ(e->info().chat_family, "chatml");
  EXPECT_EQ(e->render_chat({{"user", "Hi", std::nullopt, ""}}), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  const std::string odd = test::scratch_dir() + "/odd.jinja";
  std::ofstream(odd) << "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}";
  EXPECT_THROW(Engine::open(kMicro, {.chat_template_file = odd}), Error);
  EXPECT_THROW(Engine::open(kMicro, {.chat_template_file = "/no/such.jinja"}), Error);
}

}  // namespace
}  // namespace fare
