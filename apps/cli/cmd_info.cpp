// fare info: what a model file holds, as the loader understood it.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.h"

namespace fare::cli {

namespace {

using json = nlohmann::ordered_json;

struct InfoArgs {
  ModelArgs model;
  bool as_json = false;
};

json to_json(const ModelInfo& i) {
  json types = json::object();
  for (const auto& [t, n] : i.weight_types) types[t] = n;
  auto opt = [](const std::optional<int32_t>& v) { return v ? json(*v) : json(nullptr); };
  return {
      {"path", i.path}, {"format", i.format}, {"architecture", i.architecture},
      {"n_layer", i.n_layer}, {"n_embd", i.n_embd}, {"n_head", i.n_head}, {"n_head_kv", i.n_head_kv},
      {"head_dim", i.head_dim}, {"n_ff", i.n_ff}, {"n_vocab", i.n_vocab}, {"n_ctx_train", i.n_ctx_train},
      {"rms_norm_eps", i.rms_eps}, {"rope_theta", i.rope_theta}, {"tie_embeddings", i.tie_embeddings},
      {"n_expert", i.n_expert}, {"n_expert_used", i.n_expert_used}, {"sliding_window", i.sliding_window},
      {"sliding_layers", i.sliding_layers}, {"yarn_factor", i.yarn_factor},
      {"weight_types", types}, {"weight_bytes", i.weight_bytes},
      {"tokenizer", {{"tokens", i.tokenizer_tokens}, {"bos", opt(i.bos)}, {"eos", opt(i.eos)}, {"pad", opt(i.pad)}}},
      {"eos_ids", i.eos_ids},
      {"chat_template", {{"family", i.chat_family.empty() ? json(nullptr) : json(i.chat_family)}, {"error", i.chat_error}}},
  };
}

void run(const InfoArgs& a) {
  auto engine = open_engine(a.model);
  const ModelInfo i = engine->info();
  if (a.as_json) {
    std::printf("%s\n", to_json(i).dump(2).c_str());
    return;
  }
  std::printf("path          %s (%s)\n", i.path.c_str(), i.format.c_str());
  std::printf("architecture  %s: %d layers, hidden %d, %d query / %d kv heads of %d, ", i.architecture.c_str(), i.n_layer,
              i.n_embd, i.n_head, i.n_head_kv, i.head_dim);
  if (i.n_expert > 0)
    std::printf("%d experts of %d (%d per token), window %d on %d layers\n", i.n_expert, i.n_ff, i.n_expert_used,
                i.sliding_window, i.sliding_layers);
  else
    std::printf("MLP %d\n", i.n_ff);
  std::printf("vocabulary    %d embedding rows, %d tokenizer tokens, %s lm_head\n", i.n_vocab, i.tokenizer_tokens,
              i.tie_embeddings ? "tied" : "untied");
  std::printf("context       %d trained; rope theta %g", i.n_ctx_train, i.rope_theta);
  if (i.yarn_factor > 0) std::printf(", YaRN x%g", i.yarn_factor);
  std::printf("; rms eps %g\n", i.rms_eps);
  std::printf("weights       %.1f MiB:", static_cast<double>(i.weight_bytes) / (1 << 20));
  for (const auto& [t, n] : i.weight_types) std::printf(" %s x%d", t.c_str(), n);
  std::printf("\nstop ids     ");
  for (int32_t id : i.eos_ids) std::printf(" %d", id);
  std::printf("\nchat          %s\n", i.chat_family.empty() ? ("none: " + i.chat_error).c_str() : i.chat_family.c_str());
}

}  // namespace

void register_info(CLI::App& app) {
  auto a = std::make_shared<InfoArgs>();
  CLI::App* cmd = app.add_subcommand("info", "Architecture, shapes, weight types, tokenizer and chat facts");
  add_model_options(*cmd, a->model);
  cmd->add_flag("--json", a->as_json, "Print JSON");
  cmd->callback([a] { run(*a); });
}

}  // namespace fare::cli
