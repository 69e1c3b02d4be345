#include "judge/local_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "engine/engine.h"
#include "judge/harmony_completion.h"

namespace fare::judge {

LocalBackend::LocalBackend(std::shared_ptr<const Engine> engine)
    : engine_(std::move(engine)), chat_family_(engine_->info().chat_family) {}
LocalBackend::~LocalBackend() = default;

std::unique_ptr<LocalBackend> LocalBackend::open(const std::string& model_path, const EngineOptions& opts) {
  return std::make_unique<LocalBackend>(std::shared_ptr<const Engine>(Engine::open(model_path, opts)));
}

std::string LocalBackend::model_id() const { return engine_->model_id(); }

std::string LocalBackend::setup() const {
  const EngineStats st = engine_->stats();
  char gib[32];
  std::snprintf(gib, sizeof gib, "%.2f", static_cast<double>(st.kv_budget_bytes) / (1 << 30));
  return cat("KV cache ", gib, " GiB = ", st.kv_blocks * st.kv_block_tokens, " positions of ",
             engine_->kv_bytes_per_token(), " bytes, up to ", engine_->max_sequences(),
             " sequences per step, ", engine_->kernels(), " kernels, ", engine_->n_threads(), " threads");
}

std::string LocalBackend::load() const {
  const EngineStats st = engine_->stats();
  std::string s = cat(st.running, " running");
  if (st.waiting) s += cat(", ", st.waiting, " waiting");
  const int64_t prompt = st.prompt_tokens_cached + st.prompt_tokens_computed;
  if (prompt > 0) s += cat(", prefix cache ", std::lround(100.0 * static_cast<double>(st.prompt_tokens_cached) / static_cast<double>(prompt)), "% of prompt tokens");
  if (st.preemptions) s += cat(", ", st.preemptions, " preempted");
  return s;
}

namespace {

// A piece ends with its token's text when the token is special (before it: bytes of earlier
// tokens that never formed a character).
std::vector<HarmonyPiece> harmony_pieces(const Tokenizer& tok, const std::vector<std::string>& pieces,
                                         const std::vector<int32_t>& ids) {
  std::vector<HarmonyPiece> out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    HarmonyPiece p{pieces[i], ""};
    if (tok.is_special(ids[i])) {
      const std::string marker = tok.token_bytes(ids[i]);
      if (p.text.ends_with(marker)) {
        p.text.resize(p.text.size() - marker.size());
        p.marker = marker;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::vector<int32_t> LocalBackend::prompt_ids(const JudgeRequest& req) const {
  std::vector<ChatMessage> messages;
  for (const Message& m : req.messages) messages.push_back({m.role, m.content, std::nullopt, ""});
  ChatOptions chat;
  chat.add_generation_prompt = true;
  chat.enable_thinking = req.think;
  if (!req.reasoning_effort.empty() && chat_family_ != "harmony")
    fail("a reasoning effort ('", req.reasoning_effort, "') is a setting of gpt-oss (harmony) models; this model's chat "
         "template is ", chat_family_.empty() ? std::string("unusable") : chat_family_, ", which has none");
  chat.reasoning_effort = req.reasoning_effort;
  chat.special_in_content = false;  // an answer under judgment must not be able to write the verdict turn
  return engine_->chat_prompt(messages, chat);
}

JudgeCompletion LocalBackend::complete(const JudgeRequest& req) {
  GenerateRequest g;
  g.prompt = prompt_ids(req);
  const int n_prompt = static_cast<int>(g.prompt.size());
  const int room = engine_->n_ctx() - n_prompt;
  if (room < 1)
    throw RequestRejected(cat("the prompt has ", n_prompt, " tokens and leaves no room to answer in the context of ",
                              engine_->n_ctx(), " tokens"));
  g.max_tokens = std::min(req.generation.max_tokens, room);
  g.sampling.temperature = static_cast<float>(req.generation.temperature);
  g.sampling.top_p = static_cast<float>(req.generation.top_p);
  g.sampling.top_k = req.generation.top_k;
  g.sampling.seed = req.generation.seed;
  g.top_logprobs = req.top_logprobs;

  // The pieces the engine hands out concatenate to the final text: they are how a character of
  // the verdict is traced back to the step that wrote it. A harmony model's text is rebuilt from
  // them, told apart by whether their token is special.
  const bool harmony = chat_family_ == "harmony";
  std::vector<std::string> pieces;
  std::vector<int32_t> ids;
  TokenCallback on_token;
  if (req.top_logprobs > 0 || harmony)
    on_token = [&](const std::string& piece, const GeneratedStep& step) {
      pieces.push_back(piece);
      ids.push_back(step.id);
      return true;
    };
  // A request the engine refuses (more KV cache than the whole budget, say) is this item's
  // problem, not the run's.
  std::shared_ptr<Generation> gen;
  try {
    gen = engine_->submit(std::move(g), on_token);
  } catch (const Error& e) {
    throw RequestRejected(e.what());
  }
  // The caller may give up on the request (a server whose client went away): stop generating.
  if (req.cancel)
    while (!gen->wait_for(0.05))
      if (req.cancel->load()) gen->cancel();
  GenerateResult r = gen->wait();
  if (r.finish_reason == "cancelled") throw RequestCancelled("the request was cancelled");

  JudgeCompletion out;
  out.text = r.text;
  if (harmony) {
    FARE_CHECK(pieces.size() == r.steps.size(), pieces.size(), " pieces for ", r.steps.size(), " steps");
    const HarmonyText h = harmony_completion(harmony_pieces(engine_->tokenizer(), pieces, ids));
    out.text = h.text;
    pieces = h.steps;
  }
  out.prompt_tokens = r.n_prompt;
  out.completion_tokens = static_cast<int>(r.tokens.size());
  out.seconds = r.prefill_seconds + r.decode_seconds;
  out.finish_reason = r.finish_reason;
  if (req.top_logprobs > 0 && pieces.size() == r.steps.size()) {
    for (size_t i = 0; i < r.steps.size(); ++i) {
      TokenStep step;
      step.text = pieces[i];
      step.logprob = r.steps[i].logprob;
      for (const TokenLogprob& t : r.steps[i].top) step.top.push_back({engine_->detokenize({t.id}), t.logprob});
      out.steps.push_back(std::move(step));
    }
  }
  return out;
}

}  // namespace fare::judge
