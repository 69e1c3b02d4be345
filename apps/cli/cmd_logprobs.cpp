// fare logprobs: teacher-forced next-token distributions at every prompt position.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"
#include "common/error.h"

namespace fare::cli {

namespace {

using json = nlohmann::ordered_json;

struct LogprobsArgs {
  ModelArgs model;
  std::string prompt, tokens;
  int top_k = 5;
  bool as_json = false;
};

void run(const LogprobsArgs& a) {
  if (a.prompt.empty() == a.tokens.empty()) fail("give exactly one of --prompt or --tokens");
  auto engine = open_engine(a.model);
  const auto ids = a.prompt.empty() ? parse_id_list(a.tokens) : engine->tokenize(a.prompt, true);
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] >= engine->info().n_vocab) fail("token ", ids[i], " at index ", i, " is outside the vocabulary");
  const auto rows = engine->prompt_logprobs(ids, a.top_k);
  const Tokenizer& tok = engine->tokenizer();
  if (!a.as_json) {
    for (size_t i = 0; i < rows.size(); ++i) {
      std::printf("%5zu %8d %-16s ->", i, ids[i], json(tok.token_bytes(ids[i])).dump(-1, ' ', false, json::error_handler_t::replace).c_str());
      for (const auto& t : rows[i]) std::printf("  %d:%.4f", t.id, t.logprob);
      std::printf("\n");
    }
    return;
  }
  json positions = json::array();
  for (size_t i = 0; i < rows.size(); ++i) {
    json top = json::array();
    for (const auto& t : rows[i]) top.push_back({{"id", t.id}, {"logprob", t.logprob}});
    positions.push_back({{"pos", i}, {"token", ids[i]}, {"top", top}});
  }
  json out = {{"model", engine->model_id()}, {"tokens", ids}, {"top_k", a.top_k}, {"positions", positions}};
  std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

}  // namespace

void register_logprobs(CLI::App& app) {
  auto a = std::make_shared<LogprobsArgs>();
  CLI::App* cmd = app.add_subcommand("logprobs", "Top-K next-token log-probabilities at every prompt position");
  add_model_options(*cmd, a->model);
  cmd->add_option("-p,--prompt", a->prompt, "Prompt text (special-token text is parsed)");
  cmd->add_option("--tokens", a->tokens, "Comma-separated token ids");
  cmd->add_option("-k,--top-k", a->top_k, "Entries per position")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", a->as_json, "Print JSON: {tokens, positions: [{pos, token, top: [{id, logprob}]}]}");
  cmd->callback([a] { run(*a); });
}

}  // namespace fare::cli
