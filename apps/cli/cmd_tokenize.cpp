// fare tokenize / detokenize: the model's own tokenizer, for scripts and debugging.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"
#include "common/error.h"

namespace fare::cli {

namespace {

using json = nlohmann::ordered_json;

struct TokenizeArgs {
  ModelArgs model;
  std::string text, file;
  bool special = false, as_json = false;
};

struct DetokenizeArgs {
  ModelArgs model;
  std::string ids;
  bool as_json = false;
};

void run_tokenize(const TokenizeArgs& a) {
  if (!a.file.empty() && !a.text.empty()) fail("give only one of --text or --file");
  auto engine = open_engine(a.model);
  const std::string text = a.file.empty() ? a.text : read_text_file(a.file);
  const auto ids = engine->tokenize(text, a.special);
  const Tokenizer& tok = engine->tokenizer();
  if (!a.as_json) {
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? "," : "", ids[i]);
    std::printf("\n");
    return;
  }
  json pieces = json::array();
  for (int32_t id : ids) pieces.push_back(tok.token_text(id));
  json out = {{"ids", ids}, {"n_tokens", ids.size()}, {"tokens", pieces}};
  std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
}

void run_detokenize(const DetokenizeArgs& a) {
  auto engine = open_engine(a.model);
  const auto ids = parse_id_list(a.ids);
  const int n_vocab = engine->tokenizer().n_vocab();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] >= n_vocab) fail("token ", ids[i], " at index ", i, " is outside the tokenizer's ", n_vocab, " tokens");
  const std::string text = engine->detokenize(ids);
  if (a.as_json) std::printf("%s\n", json({{"text", text}}).dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  else std::printf("%s\n", text.c_str());
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto t = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Text to token ids");
  add_model_options(*cmd, t->model);
  auto* text = cmd->add_option("--text", t->text, "Text to tokenize");
  auto* file = cmd->add_option("--file", t->file, "File whose bytes are tokenized");
  text->excludes(file);
  cmd->add_flag("--special", t->special, "Parse special-token text (<|im_start|>) into its id");
  cmd->add_flag("--json", t->as_json, "Print JSON: {ids, n_tokens, tokens}");
  cmd->callback([t] { run_tokenize(*t); });

  auto d = std::make_shared<DetokenizeArgs>();
  CLI::App* dcmd = app.add_subcommand("detokenize", "Token ids to text");
  add_model_options(*dcmd, d->model);
  dcmd->add_option("--ids", d->ids, "Comma-separated token ids")->required();
  dcmd->add_flag("--json", d->as_json, "Print JSON: {text}");
  dcmd->callback([d] { run_detokenize(*d); });
}

}  // namespace fare::cli
