// fare generate: a prompt (raw text or chat messages) in, generated tokens and text out.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"
#include "common/error.h"

namespace fare::cli {

namespace {

using json = nlohmann::ordered_json;

struct GenerateArgs {
  ModelArgs model;
  std::string prompt, messages_file;
  bool no_think = false, as_json = false, ignore_eos = false, special_in_content = false;
  int max_tokens = 256, top_logprobs = 0;
  SamplingParams sampling;
  std::vector<std::string> stop;
};

json logprob_list(const Tokenizer& tok, const std::vector<TokenLogprob>& top) {
  json arr = json::array();
  for (const auto& t : top) arr.push_back({{"id", t.id}, {"token", tok.token_bytes(t.id)}, {"logprob", t.logprob}});
  return arr;
}

std::vector<int32_t> build_prompt(const Engine& engine, const GenerateArgs& a) {
  if (!a.prompt.empty()) return engine.tokenize(a.prompt, true);
  json j;
  try {
    j = json::parse(read_text_file(a.messages_file));
  } catch (const json::parse_error& e) {
    fail(a.messages_file, ": not valid JSON: ", e.what());
  }
  // Either a bare array of messages or {"messages": [...], "tools"?: [...]}, as in a chat request.
  ChatOptions opts;
  if (j.is_object() && j.contains("tools") && !j["tools"].is_null()) {
    if (!j["tools"].is_array()) fail(a.messages_file, ": \"tools\" must be an array of tool definitions");
    if (!j["tools"].empty()) opts.tools_json = j["tools"].dump();
  }
  if (j.is_object() && j.contains("messages")) j = j["messages"];
  if (a.no_think) opts.enable_thinking = false;
  opts.special_in_content = a.special_in_content;
  return engine.chat_prompt(chat_messages_from_json(j), opts);
}

void run(GenerateArgs& a) {
  if (a.prompt.empty() == a.messages_file.empty()) fail("give exactly one of --prompt or --messages");
  auto engine = open_engine(a.model);
  GenerateRequest req;
  req.prompt = build_prompt(*engine, a);
  req.max_tokens = a.max_tokens;
  req.sampling = a.sampling;
  req.stop = a.stop;
  req.stop_at_eos = !a.ignore_eos;
  req.top_logprobs = a.top_logprobs;
  const bool stream = !a.as_json;
  auto res = engine->generate(req, [&](const std::string& piece, const GeneratedStep&) {
    if (stream && !piece.empty()) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  const double pp = res.prefill_seconds > 0 ? res.n_prompt / res.prefill_seconds : 0;
  const double tg = res.decode_seconds > 0 ? static_cast<double>(res.tokens.size()) / res.decode_seconds : 0;
  if (!a.as_json) {
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr, "[%d prompt tokens, %.1f tok/s; %zu generated, %.1f tok/s; finish: %s]\n", res.n_prompt, pp,
                 res.tokens.size(), tg, res.finish_reason.c_str());
    return;
  }
  const Tokenizer& tok = engine->tokenizer();
  json steps = json::array();
  for (const auto& s : res.steps) {
    json st = {{"id", s.id}, {"token", tok.token_bytes(s.id)}, {"logprob", s.logprob}};
    if (a.top_logprobs > 0) st["top_logprobs"] = logprob_list(tok, s.top);
    steps.push_back(std::move(st));
  }
  json out = {
      {"model", engine->model_id()},
      {"prompt_tokens", req.prompt},
      {"n_prompt", res.n_prompt},
      {"tokens", res.tokens},
      {"n_generated", res.tokens.size()},
      {"text", res.text},
      {"finish_reason", res.finish_reason},
      {"steps", steps},
      {"timing", {{"prefill_seconds", res.prefill_seconds}, {"decode_seconds", res.decode_seconds},
                  {"prefill_tokens_per_second", pp}, {"decode_tokens_per_second", tg}}},
  };
  // Invalid UTF-8 (a token cut mid-character) is replaced rather than failing the dump.
  std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

}  // namespace

void register_generate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd = app.add_subcommand("generate", "Generate text from a prompt or chat messages");
  add_model_options(*cmd, a->model);
  cmd->add_option("-p,--prompt", a->prompt, "Raw prompt text (special-token text such as <|im_start|> is parsed)");
  cmd->add_option("--messages", a->messages_file, "JSON file: [{\"role\": ..., \"content\": ...}, ...], rendered with the model's chat template");
  cmd->add_flag("--special-in-content", a->special_in_content,
                "With --messages: special-token text inside messages (<|im_end|>) becomes control tokens, as "
                "Hugging Face apply_chat_template(tokenize=True) does; off: it is plain text");
  cmd->add_flag("--no-think", a->no_think, "Render with enable_thinking=false (appends an empty <think> block)");
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Most tokens to generate")->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature,--temp", a->sampling.temperature, "0 = greedy");
  cmd->add_option("--top-k", a->sampling.top_k, "0 = off");
  cmd->add_option("--top-p", a->sampling.top_p, "1 = off");
  cmd->add_option("--min-p", a->sampling.min_p, "0 = off");
  cmd->add_option("--presence-penalty", a->sampling.presence_penalty, "Subtracted from generated tokens' logits");
  cmd->add_option("--repetition-penalty,--repeat-penalty", a->sampling.repetition_penalty, "1 = off");
  cmd->add_option("--seed", a->sampling.seed, "Random seed (same seed, same output)");
  cmd->add_option("--stop", a->stop, "Stop string (repeatable); the text ends before it");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Do not stop at the model's end-of-generation tokens");
  cmd->add_option("--top-logprobs", a->top_logprobs, "Report the K most likely tokens at every step")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", a->as_json, "Print one JSON object (prompt ids, generated ids, text, per-step log-probs)");
  cmd->callback([a] { run(*a); });
}

}  // namespace fare::cli
