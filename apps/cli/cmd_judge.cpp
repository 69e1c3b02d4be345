// fare judge: one item, judged with a FARE task; also the options every judge subcommand shares.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "judge/judge.h"
#include "judge/open_backend.h"
#include "judge/report.h"
#include "judge/settings.h"
#include "judge/template.h"

namespace fare::cli {

using judge::Task;

void add_judge_options(CLI::App& cmd, JudgeArgs& a) {
  add_model_options(cmd, a.model,
                    "Model folder or .gguf file; or OpenAI-compatible servers, http://HOST:PORT/v1 (repeat -m or "
                    "separate with commas for several); or scripted:FILE.jsonl to replay prepared outputs");
  // Repeated -m values are joined with commas, which is how open_backend reads a list of servers.
  cmd.get_option("--model")->join(',');
  cmd.add_option("--remote-model", a.remote_model,
                 "Servers: the model name to ask for (default: the first the server lists at /v1/models)");
  cmd.add_option("--request-timeout", a.request_timeout,
                 "Servers: seconds to wait for one answer before trying again")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--retries", a.retries,
                 "Servers: tries after the first for a request that fails (connection, timeout, 429, 5xx) before "
                 "the run stops; the API key is read from FARE_API_KEY or OPENAI_API_KEY")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--template-dir", a.template_dir, "Folder with <task>.system.txt / <task>.user.txt overriding the built-in template");
  cmd.add_option("--system-template", a.system_template, "File with the system prompt template");
  cmd.add_option("--user-template", a.user_template, "File with the user prompt template");
  auto* think = cmd.add_flag("--think", a.think, "Let the model think first (Qwen3 enable_thinking=true)");
  cmd.add_flag("--no-think", a.no_think, "Render with enable_thinking=false (the default for every task)")->excludes(think);
  cmd.add_option("--reasoning-effort", a.reasoning_effort,
                 "gpt-oss models (FARE-20B): the reasoning effort of the system message (default: the template's, "
                 "medium); refused for other models")
      ->check(CLI::IsMember({"low", "medium", "high"}));
  a.temperature_opt = cmd.add_option("--temperature,--temp", a.temperature,
                                     "Sampling temperature (default 0 = greedy; 0.6 with --think or --samples > 1)");
  a.top_p_opt = cmd.add_option("--top-p", a.top_p, "Nucleus sampling (default 1 = off; 0.95 when sampling)");
  a.top_k_opt = cmd.add_option("--top-k", a.top_k, "Top-k sampling (default 0 = off; 20 when sampling)");
  a.max_tokens_opt = cmd.add_option("-n,--max-tokens", a.max_tokens, "Most tokens per judgment (default: per task, see docs/JUDGE.md)");
  cmd.add_option("--seed", a.seed, "Sampling seed; sample k uses seed + k");
  cmd.add_option("--parallel", a.parallel,
                 "Judgments in flight at once; a local model runs them together, reading its weights once per step "
                 "for all; with servers, the requests in flight over all of them (default 8)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--samples", a.samples, "Self-consistency: judge each prompt N times and take the majority")
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--no-swap", a.no_swap, "Pairwise: judge only the given order (default: both orders, swap mapped back)");
  cmd.add_option("--top-logprobs", a.top_logprobs, "Alternatives read at the verdict position for confidence (0 = off)")
      ->check(CLI::NonNegativeNumber);
}

judge::JudgeConfig judge_config_from(const JudgeArgs& a, Task task) {
  judge::ConfigOverrides o;
  if (a.think) o.think = true;
  if (a.no_think) o.think = false;
  o.reasoning_effort = a.reasoning_effort;
  if (a.temperature_opt && a.temperature_opt->count()) o.temperature = a.temperature;
  if (a.top_p_opt && a.top_p_opt->count()) o.top_p = a.top_p;
  if (a.top_k_opt && a.top_k_opt->count()) o.top_k = a.top_k;
  if (a.max_tokens_opt && a.max_tokens_opt->count()) o.max_tokens = a.max_tokens;
  o.seed = a.seed;
  o.samples = a.samples;
  o.swap = !a.no_swap;
  o.top_logprobs = a.top_logprobs;
  return judge::make_config(task, judge::resolve_template(task, a.template_dir, a.system_template, a.user_template), o);
}

std::unique_ptr<judge::JudgeBackend> open_judge_backend(const JudgeArgs& a) {
  ModelArgs m = a.model;
  m.parallel = a.parallel;  // the engine batches as many sequences as the judge keeps in flight
  judge::RemoteOptions remote;
  remote.model = a.remote_model;
  remote.request_timeout_s = a.request_timeout;
  remote.retries = a.retries;
  remote.api_key = judge::api_key_from_environment();
  auto backend = judge::open_backend(m.path, engine_options(m), remote);
  if (const std::string s = backend->setup(); !s.empty()) std::fprintf(stderr, "%s\n", s.c_str());
  return backend;
}

void print_backend_summary(const judge::JudgeBackend& backend) {
  if (const std::string s = backend.summary(); !s.empty()) std::fprintf(stderr, "%s\n", s.c_str());
}

std::string text_arg(const std::string& value) {
  return value.starts_with("@") ? read_text_file(value.substr(1)) : value;
}

namespace {

struct ItemArgs {
  std::string item_file;
  std::string instruction, response, response_a, response_b, reference;
  std::vector<std::string> steps;
  bool json = false;
  bool show_reasoning = false;
};

judge::Item item_from_args(const JudgeArgs& a, const ItemArgs& i) {
  std::optional<Task> task;
  if (!a.task.empty()) task = judge::parse_task(a.task);
  if (!i.item_file.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(i.item_file));
    } catch (const nlohmann::json::parse_error& e) {
      fail(i.item_file, ": not valid JSON (", e.what(), ")");
    }
    if (!j.contains("id")) j["id"] = "item";
    return judge::item_from_json(j, judge::infer_task(j, task, i.item_file), i.item_file);
  }
  if (!task) fail("--task is required unless --item names a file whose item says its task");
  if (i.instruction.empty()) fail("--instruction is required (or --item FILE)");
  nlohmann::json j = {{"id", "item"}, {"instruction", text_arg(i.instruction)}};
  if (!i.response.empty()) j["response"] = text_arg(i.response);
  if (!i.response_a.empty()) j["response_a"] = text_arg(i.response_a);
  if (!i.response_b.empty()) j["response_b"] = text_arg(i.response_b);
  if (!i.reference.empty()) j["reference"] = text_arg(i.reference);
  if (!i.steps.empty()) {
    j["steps"] = nlohmann::json::array();
    for (const std::string& s : i.steps) j["steps"].push_back(text_arg(s));
  }
  return judge::item_from_json(j, *task, "command line");
}

void print_readable(const judge::JudgeConfig& cfg, const judge::JudgeBackend& backend, const judge::ItemResult& r,
                    bool show_reasoning) {
  std::printf("task %s, model %s, template %s (%s)%s\n", std::string(judge::task_name(cfg.task)).c_str(),
              backend.model_id().c_str(), cfg.tpl.origin.c_str(), cfg.tpl.hash().c_str(),
              cfg.reasoning_effort.empty() ? "" : cat(", reasoning effort ", cfg.reasoning_effort).c_str());
  for (const judge::Judgment& j : r.judgments) {
    std::string head = cfg.task == Task::kPairwise ? cat("order ", judge::order_name(j.order), ", ") : "";
    head += cat("sample ", j.sample);
    std::string verdict = j.valid ? judge::verdict_code_text(cfg.task, j.code)
                                  : cat("invalid (", j.verdict.invalid_reason, ")");
    std::printf("\n[%s] verdict: %s", head.c_str(), verdict.c_str());
    if (j.valid && cfg.task == Task::kPairwise && j.order == judge::Order::kSwapped)
      std::printf(" (the model wrote [%s] with the answers swapped)", j.verdict.text.c_str());
    if (j.probs) {
      std::printf("  confidence:");
      for (size_t k = 0; k < j.probs->options.size(); ++k)
        if (j.probs->probs[k] >= 0.005) std::printf(" P(%s)=%.2f", j.probs->options[k].c_str(), j.probs->probs[k]);
    }
    std::printf("\n  %d prompt + %d generated tokens, %.1f s, finish: %s\n", j.prompt_tokens, j.completion_tokens,
                j.seconds, j.finish_reason.c_str());
    if (!j.error.empty()) std::printf("  error: %s\n", j.error.c_str());
    if (show_reasoning && !j.verdict.reasoning.empty()) std::printf("  reasoning:\n%s\n", j.verdict.reasoning.c_str());
    if (j.valid && !j.verdict.explanation.empty()) std::printf("  explanation:\n%s\n", j.verdict.explanation.c_str());
    if (!j.valid) std::printf("  raw output:\n%s\n", j.raw.c_str());
  }
  std::printf("\n");
  for (const judge::Decision& d : r.decisions) {
    std::string label = cfg.task == Task::kPairwise ? cat("order ", judge::order_name(d.order)) : "final";
    if (d.valid)
      std::printf("%s: %s (%d of %d samples)\n", label.c_str(), judge::verdict_code_text(cfg.task, d.code).c_str(),
                  d.n_votes, d.n_samples);
    else
      std::printf("%s: invalid (%s)\n", label.c_str(), d.invalid_reason.c_str());
  }
  if (r.decisions.size() == 2) {
    const auto &a = r.decisions[0], &b = r.decisions[1];
    if (a.valid && b.valid && a.code == b.code)
      std::printf("verdict: %s, consistent in both orders\n", judge::verdict_code_text(cfg.task, a.code).c_str());
    else
      std::printf("verdict: none (the two orders %s)\n", a.valid && b.valid ? "disagree" : "did not both give one");
  }
}

nlohmann::ordered_json result_json(const judge::JudgeConfig& cfg, const judge::ItemResult& r) {
  nlohmann::ordered_json decisions = nlohmann::ordered_json::array();
  for (const judge::Decision& d : r.decisions) {
    decisions.push_back({{"order", cfg.task == Task::kPairwise ? nlohmann::ordered_json(judge::order_name(d.order))
                                                               : nlohmann::ordered_json(nullptr)},
                         {"valid", d.valid},
                         {"verdict", d.valid ? nlohmann::ordered_json(judge::verdict_code_text(cfg.task, d.code))
                                             : nlohmann::ordered_json(nullptr)},
                         {"votes", d.n_votes},
                         {"samples", d.n_samples},
                         {"invalid_reason", d.valid ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(d.invalid_reason)}});
  }
  nlohmann::ordered_json judgments = nlohmann::ordered_json::array();
  for (const judge::Judgment& j : r.judgments) {
    nlohmann::ordered_json line = judge::judgment_to_json(j);
    line["explanation"] = j.verdict.explanation;
    judgments.push_back(line);
  }
  return {{"config", judge::config_to_json(cfg)}, {"decisions", decisions}, {"judgments", judgments}};
}

}  // namespace

void register_judge(CLI::App& app) {
  auto* cmd = app.add_subcommand("judge", "Judge one item with a FARE task (pairwise, step, verify, verify_ref, rating)");
  auto a = std::make_shared<JudgeArgs>();
  auto i = std::make_shared<ItemArgs>();
  add_judge_options(*cmd, *a);
  cmd->add_option("--task", a->task, "pairwise, step, verify, verify_ref or rating")
      ->check(CLI::IsMember({"pairwise", "step", "verify", "verify_ref", "rating"}));
  cmd->add_option("--item", i->item_file, "JSON file with one item in the project schema (docs/JUDGE.md)");
  cmd->add_option("-i,--instruction", i->instruction, "The question (@FILE reads a file)");
  cmd->add_option("-r,--response", i->response, "The answer to verify or rate (@FILE)");
  cmd->add_option("-a,--response-a", i->response_a, "Pairwise: the first answer (@FILE)");
  cmd->add_option("-b,--response-b", i->response_b, "Pairwise: the second answer (@FILE)");
  cmd->add_option("--reference", i->reference, "verify_ref: the reference answer (@FILE)");
  cmd->add_option("-s,--step", i->steps, "Step task: one solution step; repeat in order (@FILE)");
  cmd->add_flag("--json", i->json, "Print one JSON object with every judgment");
  cmd->add_flag("--show-reasoning", i->show_reasoning, "Also print the <think> block when there is one");
  cmd->callback([a, i] {
    judge::Item item = item_from_args(*a, *i);
    judge::JudgeConfig cfg = judge_config_from(*a, item.task);
    auto backend = open_judge_backend(*a);
    judge::ItemResult r;
    try {
      r = judge::judge_item(*backend, cfg, item, a->parallel);
    } catch (...) {
      print_backend_summary(*backend);
      throw;
    }
    print_backend_summary(*backend);
    if (i->json)
      std::cout << result_json(cfg, r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
      print_readable(cfg, *backend, r, i->show_reasoning);
  });
}

}  // namespace fare::cli
