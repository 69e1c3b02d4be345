// The engine's public API: everything outside the engine (CLI, judge, server, benchmarks) uses
// only this header. One read-only Engine (model + tokenizer + chat template) serves many
// independent generations; each call owns its own session state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sampler/sampler.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace fare {

class Model;

struct EngineOptions {
  int n_threads = 0;  // 0: all CPUs this process may use
  int n_ctx = 0;      // KV cache length per generation; 0: the model's max_position_embeddings, capped at 32768
  std::string chat_template_file;  // replaces the model's own chat template when set
  // CPU kernel set: "auto" = "exact" (fastest for this CPU with float activations: exact, and
  // decode steps agree with batched passes), "fast" (fastest overall; rounds activations to int8
  // blocks or bf16 as llama.cpp does), or a name: "reference", "avx2", "avx512", "avx512-vnni",
  // "avx512-bf16", "amx", "amx-int8", "amx-bf16".
  std::string kernels = "auto";
  std::string kv_cache = "f32";  // KV cache values: "f32", "f16" or "bf16"
  // Copy the weights that the kernel set reads faster in its own layout (so far: BF16 with
  // "fast" on AVX-512 BF16) into that layout at load. Memory stays at about the weights' size,
  // but loading takes seconds instead of a fraction of one, and other processes cannot share
  // those pages of the page cache; decode gains 2-6 %, prefill loses 3-8 % (docs/PERFORMANCE.md).
  bool repack_weights = false;
  // Prompt tokens per forward pass (llama.cpp's ubatch): prefill reads every weight once per
  // pass. 0: chosen by the weight type and kernels (512 or 256, engine.cpp).
  int micro_batch = 0;
};


struct GenerateRequest {
  std::vector<int32_t> prompt;  // token ids (render + tokenize first; see Engine::chat_prompt)
  int max_tokens = 256;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings; the text ends before the match
  bool stop_at_eos = true;        // stop on the model's end-of-generation ids
  int top_logprobs = 0;           // per generated step, the K most likely tokens
  bool return_logits = false;     // fill GenerateResult::final_logits (benchmarks hash them)
};

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;  // natural log of the probability under the model (temperature 1, no penalties)
};

struct GeneratedStep {
  int32_t id = 0;
  float logprob = 0;
  std::vector<TokenLogprob> top;  // descending; empty unless top_logprobs > 0
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the stop-string or EOS token included when it was sampled)
  std::vector<GeneratedStep> steps;
  std::string text;           // decoded text, cut before a stop string; EOS not rendered
  std::string finish_reason;  // "eos", "stop" (stop string), "length" (max_tokens or context full)
  int n_prompt = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  std::vector<float> final_logits;  // with return_logits: the logits the last token was sampled from
};

// Called with each piece of newly completed text; return false to stop generating.
using TokenCallback = std::function<bool(const std::string& piece, const GeneratedStep& step)>;

// What `fare info` shows: shapes, weight types, tokenizer and chat facts.
struct ModelInfo {
  std::string path, format, architecture;
  int n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_vocab = 0, n_ctx_train = 0;
  float rms_eps = 0;
  double rope_theta = 0;
  bool tie_embeddings = false;
  std::vector<std::pair<std::string, int>> weight_types;  // type -> matrices
  size_t weight_bytes = 0;
  int packed_matrices = 0;   // matrices repacked at load (EngineOptions::repack_weights)
  size_t packed_bytes = 0;
  size_t embedding_bytes = 0;  // token_embd as stored; a decode step reads one row of it (unless tied)
  int tokenizer_tokens = 0;
  std::optional<int32_t> bos, eos, pad;
  std::vector<int32_t> eos_ids;
  std::string chat_family;  // empty when there is no usable template
  std::string chat_error;
};

class Engine {
 public:
  // A Hugging Face directory or a .gguf file. Throws fare::Error with a precise message.
  static std::unique_ptr<Engine> open(const std::string& path, const EngineOptions& opts = {});
  ~Engine();

  ModelInfo info() const;
  const Tokenizer& tokenizer() const;
  const ChatTemplate& chat_template() const;
  std::string model_id() const;  // the path's last component, for records
  int n_ctx() const { return n_ctx_; }
  int n_threads() const;
  int micro_batch() const { return micro_batch_; }  // EngineOptions::micro_batch resolved
  std::string kernels() const;  // the kernel set in use (EngineOptions::kernels resolved)
  const std::vector<int32_t>& eos_ids() const;

  std::vector<int32_t> tokenize(const std::string& text, bool parse_special) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;
  std::string render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& opts = {}) const;
  // render_chat, then tokenize: only the template's markup becomes special tokens, the messages'
  // text is plain text (unless opts.special_in_content, which parses special tokens everywhere).
  std::vector<int32_t> chat_prompt(const std::vector<ChatMessage>& messages, const ChatOptions& opts = {}) const;

  // Thread-safe: concurrent calls each use their own session.
  GenerateResult generate(const GenerateRequest& req, const TokenCallback& on_token = {}) const;

  // Teacher-forced: for each position i of `tokens`, the top-k next-token log-probabilities
  // after tokens[0..i]. One batched forward pass.
  std::vector<std::vector<TokenLogprob>> prompt_logprobs(const std::vector<int32_t>& tokens, int top_k) const;

 private:
  Engine() = default;
  std::shared_ptr<const Model> model_;
  std::optional<ChatTemplate> chat_override_;
  int n_ctx_ = 0;
  int micro_batch_ = 0;
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

}  // namespace fare
