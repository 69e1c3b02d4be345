// Each subcommand registers itself on the CLI11 app; main() only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace fare::judge {
struct JudgeConfig;
class JudgeBackend;
enum class Task;
}  // namespace fare::judge

namespace fare::cli {

// Options every model-using subcommand shares.
struct ModelArgs {
  std::string path;
  int threads = 0;
  int ctx = 0;
  std::string chat_template;
  std::string kernels = "auto";
  std::string kv_cache = "auto";
  bool repack = false;     // every packed layout (EngineOptions::repack "all")
  bool no_repack = false;  // none ("off"); neither: "auto"
  int ubatch = 0;
  int parallel = 0;        // sequences per step (EngineOptions::max_sequences); 0: the engine's default
  std::string kv_budget;   // "8G", "512M", "1048576"; empty: the engine's default
  bool no_prefix_cache = false;
};
// -m (described by model_help), -t, -c, --chat-template, --kernels, --kv-cache, --repack, --ubatch,
// --kv-budget, --no-prefix-cache.
void add_model_options(CLI::App& cmd, ModelArgs& args,
                       const std::string& model_help = "Hugging Face model directory or .gguf file");
EngineOptions engine_options(const ModelArgs& args);
std::unique_ptr<Engine> open_engine(const ModelArgs& args);

// "1,2, 3" -> {1, 2, 3}; throws fare::Error naming the bad element.
std::vector<int32_t> parse_id_list(const std::string& text);
std::string read_text_file(const std::string& path);

// Options the judge subcommands (judge, eval, rerank) share; defined in cmd_judge.cpp.
struct JudgeArgs {
  ModelArgs model;  // path: a model folder, .gguf, scripted:FILE.jsonl, or server URLs joined by commas
  std::string task;
  std::string template_dir, system_template, user_template;
  bool think = false;
  bool no_think = false;
  std::string reasoning_effort;  // gpt-oss (harmony): low, medium or high; empty: the template's default
  double temperature = 0;
  double top_p = 1;
  int top_k = 0;
  int max_tokens = 0;
  uint64_t seed = 0;
  int samples = 1;
  bool no_swap = false;
  int top_logprobs = 20;
  int parallel = kDefaultMaxSequences;  // judgments in flight; a local model runs them in one batch
  std::string remote_model;             // remote servers: the model name to ask for (empty: the first listed)
  double request_timeout = 600;         // remote servers: seconds to wait for one answer
  int retries = 6;                      // remote servers: tries after the first before giving up
  CLI::Option* temperature_opt = nullptr;  // given options override the task's defaults
  CLI::Option* top_p_opt = nullptr;
  CLI::Option* top_k_opt = nullptr;
  CLI::Option* max_tokens_opt = nullptr;
};
void add_judge_options(CLI::App& cmd, JudgeArgs& args);
judge::JudgeConfig judge_config_from(const JudgeArgs& args, judge::Task task);
std::unique_ptr<judge::JudgeBackend> open_judge_backend(const JudgeArgs& args);
// The backend's summary line (remote retries and failures) on stderr, when it has one.
void print_backend_summary(const judge::JudgeBackend& backend);
std::string text_arg(const std::string& value);  // "@path": the file's text
// 8G, 512M, 64K or plain bytes; throws fare::Error naming the text.
int64_t parse_bytes(const std::string& text);

void register_generate(CLI::App& app);
void register_logprobs(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_info(CLI::App& app);
void register_convert(CLI::App& app);
void register_quantize(CLI::App& app);
void register_bench(CLI::App& app);
void register_judge(CLI::App& app);
void register_eval(CLI::App& app);
void register_rerank(CLI::App& app);
void register_report(CLI::App& app);
void register_serve(CLI::App& app);

}  // namespace fare::cli
