// One side of bench/judge_throughput.sh: JudgeBench pairs judged in both orders by a local model
// with --parallel N in flight, each judgment generating a fixed number of tokens (the end token
// ignored: random weights never stop on their own). Prompts are FARE's pairwise template rendered
// with the model's chat template, exactly as `fare eval` builds them; with --prompts-out the
// token ids go to a file, so that another engine runs the very same prompts.
//
//   bench_judge_throughput MODEL --input JUDGEBENCH.jsonl [--pairs 8] [--tokens 128] [--parallel N]
//                          [--threads T] [--kernels K] [--kv-cache f32|f16|bf16] [--prompts-out FILE]
//
// Prints one JSON object: judgments per hour, generated tokens/s, prompt tokens computed and
// served from the prefix cache, time to first token, peak RSS.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/engine.h"
#include "judge/dataset.h"
#include "judge/judge.h"
#include "judge/prompt.h"
#include "judge/settings.h"
#include "judge/template.h"

namespace {

using fare::Engine;
using json = nlohmann::ordered_json;

size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string key;
  size_t kb = 0;
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return kb;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"JudgeBench pairs in both orders through the batched engine"};
  std::string model, input, prompts_out, kernels = "auto", kv_cache;
  int pairs = 8, tokens = 128, parallel = 1, threads = 0;
  app.add_option("model", model, "Model folder or .gguf")->required();
  app.add_option("--input", input, "A JudgeBench JSONL file")->required();
  app.add_option("--pairs", pairs, "Pairs taken from the start of the file")->check(CLI::PositiveNumber);
  app.add_option("--tokens", tokens, "Tokens each judgment generates")->check(CLI::PositiveNumber);
  app.add_option("--parallel", parallel, "Judgments in flight")->check(CLI::PositiveNumber);
  app.add_option("-t,--threads", threads, "Threads (default: all)");
  app.add_option("--kernels", kernels, "Kernel set");
  app.add_option("--kv-cache", kv_cache, "KV cache values: f32, f16 or bf16 (default: the engine's)");
  app.add_option("--prompts-out", prompts_out, "Write every prompt's token ids here (JSONL)");
  CLI11_PARSE(app, argc, argv);
  try {
    fare::judge::LoadOptions lo;
    lo.dataset = "judgebench";
    auto loaded = fare::judge::load_datasets({input}, lo);
    if (loaded.items.size() > static_cast<size_t>(pairs)) loaded.items.resize(static_cast<size_t>(pairs));
    const auto task = fare::judge::Task::kPairwise;
    const auto cfg = fare::judge::make_config(task, fare::judge::resolve_template(task, "", "", ""), {});

    fare::EngineOptions eo;
    eo.n_threads = threads;
    eo.kernels = kernels;
    eo.max_sequences = parallel;
    if (!kv_cache.empty()) eo.kv_cache = kv_cache;
    const auto t_load = std::chrono::steady_clock::now();
    const auto engine = Engine::open(model, eo);
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();

    std::vector<std::vector<int32_t>> prompts;
    for (const auto& item : loaded.items)
      for (const auto order : fare::judge::orders_for(cfg)) {
        std::vector<fare::ChatMessage> messages;
        for (const auto& m : fare::judge::build_messages(cfg.tpl, item, order)) messages.push_back({m.role, m.content, std::nullopt, ""});
        fare::ChatOptions chat;
        chat.enable_thinking = cfg.think;
        prompts.push_back(engine->chat_prompt(messages, chat));
      }
    if (!prompts_out.empty()) {
      std::ofstream out(prompts_out);
      for (const auto& p : prompts) out << json{{"ids", p}}.dump() << "\n";
    }

    // Keep `parallel` requests in flight, as fare eval's workers do.
    std::atomic<size_t> next{0};
    std::vector<fare::GenerateResult> results(prompts.size());
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < parallel; ++w)
      workers.emplace_back([&] {
        for (size_t k; (k = next++) < prompts.size();) {
          fare::GenerateRequest req;
          req.prompt = prompts[k];
          req.max_tokens = tokens;
          req.stop_at_eos = false;
          results[k] = engine->generate(req);
        }
      });
    for (auto& w : workers) w.join();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    double generated = 0, prompt_tokens = 0;
    std::vector<double> ttft;
    for (const auto& r : results) {
      generated += static_cast<double>(r.tokens.size());
      prompt_tokens += r.n_prompt;
      ttft.push_back(r.prefill_seconds);
    }
    std::sort(ttft.begin(), ttft.end());
    const fare::EngineStats st = engine->stats();
    const json j = {
        {"engine", "fare"}, {"model", model}, {"kernels", engine->kernels()}, {"kv_cache", engine->kv_cache()}, {"threads", engine->n_threads()},
        {"parallel", parallel}, {"judgments", prompts.size()}, {"tokens_each", tokens}, {"load_s", load_s},
        {"wall_s", wall}, {"judgments_per_hour", static_cast<double>(prompts.size()) * 3600.0 / wall},
        {"generated_tokens", generated}, {"generated_tok_per_s", generated / wall},
        {"prompt_tokens", prompt_tokens}, {"prompt_tokens_computed", st.prompt_tokens_computed},
        {"prompt_tokens_cached", st.prompt_tokens_cached}, {"ttft_median_s", ttft[ttft.size() / 2]},
        {"kv_budget_bytes", st.kv_budget_bytes}, {"peak_rss_bytes", peak_rss_bytes()}};
    std::printf("%s\n", j.dump(1).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_judge_throughput: %s\n", e.what());
    return 1;
  }
}
