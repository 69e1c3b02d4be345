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
  // CPU kernel set: "auto" = "fast" (fastest for this CPU; rounds activations to int8 blocks or
  // bf16 as llama.cpp does), "exact" (fastest with float activations), or a name: "reference",
  // "avx2", "avx2-int8", "avx512", "avx512-vnni", "avx512-bf16", "amx", "amx-int8", "amx-bf16".
  // Either way a token's result does not depend on what else is in the batch.
  std::string kernels = "auto";
  // KV cache values: "f32", "f16", "bf16", or "auto": f16 with kernels that round activations
  // (llama.cpp's default cache too), f32 with exact ones.
  std::string kv_cache = "auto";
  // Copying weights at load into a layout the kernel set reads faster. Memory stays at about the
  // weights' size, but loading takes longer and other processes cannot share those pages of the
  // page cache. "auto": the layouts worth it whatever runs (Q8_0 in tiles of 16 rows for
  // AMX-INT8 decode: 8 sequences' decode steps 1.6-1.8x as fast, one sequence's 0.97-0.99x);
  // "all": also BF16 for "fast" on AVX-512 BF16 without AMX (decode 2-6 % faster, prefill 3-8 %
  // slower); "off": none (docs/PERFORMANCE.md).
  std::string repack = "auto";
  // Prompt tokens per forward pass (llama.cpp's ubatch): prefill reads every weight once per
  // pass. 0: chosen by the weight type and kernels (512 or 256, engine.cpp). With many sequences
  // a pass also carries their decode tokens: this is the size of a whole step.
  int micro_batch = 0;
  // Sequences run together in one forward pass at most (each step reads the weights once for
  // all of them); more requests wait their turn. 0: kDefaultMaxSequences.
  int max_sequences = 0;
  // Bytes of KV cache shared by every sequence, in blocks of 16 positions. 0: half of the memory
  // available after the weights, at most what max_sequences full contexts need (default_kv_budget).
  int64_t kv_budget = 0;
  // Keep full blocks of computed prompts and reuse them for any request that starts with the same
  // tokens (system prompts, both orders of a pair, every sample of one prompt).
  bool prefix_cache = true;
};

inline constexpr int kDefaultMaxSequences = 8;


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
  int n_cached = 0;            // prompt tokens whose KV rows came from the prefix cache
  double prefill_seconds = 0;  // from the request's submission to its first token (waiting included)
  double decode_seconds = 0;   // from the first token to the last
  std::vector<float> final_logits;  // with return_logits: the logits the last token was sampled from
};

// Called with each piece of newly completed text; return false to stop generating. It runs on
// the engine's scheduling thread between steps: keep it short, and never wait in it for another
// generation of the same engine.
using TokenCallback = std::function<bool(const std::string& piece, const GeneratedStep& step)>;

// A generation in flight.
class Generation {
 public:
  virtual ~Generation() = default;
  // Blocks until it ends; throws fare::Error when it failed.
  virtual GenerateResult wait() = 0;
  // Waits at most `seconds` for it to end; true when it has (wait() then returns at once).
  virtual bool wait_for(double seconds) = 0;
  // Ends it before its next step (finish_reason "cancelled"); its KV blocks go back to the pool.
  virtual void cancel() = 0;
  virtual bool done() const = 0;
};

// What the scheduler has done since the engine opened, and holds now.
struct EngineStats {
  int running = 0;  // sequences in the batch
  int waiting = 0;  // submitted, not started (or given back their blocks for a while)
  int64_t requests_finished = 0;
  int64_t prompt_tokens_computed = 0;  // prompt positions run through the model
  int64_t prompt_tokens_cached = 0;    // prompt positions served from the prefix cache instead
  int64_t generated_tokens = 0;
  int64_t steps = 0;        // forward passes
  int64_t step_tokens = 0;  // tokens over all passes
  int64_t preemptions = 0;  // times a sequence gave its blocks back to be computed again later
  int64_t kv_blocks = 0, kv_blocks_used = 0, kv_blocks_cached = 0, kv_block_tokens = 0;
  int64_t kv_budget_bytes = 0;
};

// What `fare info` shows: shapes, weight types, tokenizer and chat facts.
struct ModelInfo {
  std::string path, format, architecture;
  int n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_vocab = 0, n_ctx_train = 0;
  float rms_eps = 0;
  double rope_theta = 0;
  bool tie_embeddings = false;
  // gpt-oss: experts per layer and per token (n_ff is one expert's width), the sliding window
  // and how many layers use it, YaRN's factor (0: plain RoPE).
  int n_expert = 0, n_expert_used = 0, sliding_window = 0, sliding_layers = 0;
  double yarn_factor = 0;
  size_t expert_bytes = 0;  // all experts' matrices (a token reads n_expert_used of n_expert per layer)
  std::vector<std::pair<std::string, int>> weight_types;  // type -> matrices
  size_t weight_bytes = 0;
  int packed_matrices = 0;   // matrices repacked at load (EngineOptions::repack)
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
  std::string kv_cache() const;  // "f32", "f16" or "bf16" (EngineOptions::kv_cache resolved)
  const std::vector<int32_t>& eos_ids() const;

  std::vector<int32_t> tokenize(const std::string& text, bool parse_special) const;
  std::string detokenize(const std::vector<int32_t>& ids) const;
  std::string render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& opts = {}) const;
  // render_chat, then tokenize: only the template's markup becomes special tokens, the messages'
  // text is plain text (unless opts.special_in_content, which parses special tokens everywhere).
  std::vector<int32_t> chat_prompt(const std::vector<ChatMessage>& messages, const ChatOptions& opts = {}) const;

  // Queues a generation; every submitted request is batched with the others in flight. Throws
  // fare::Error for a request that can never run (empty or too long a prompt, a token outside
  // the vocabulary, more KV cache than the whole budget).
  std::shared_ptr<Generation> submit(GenerateRequest req, TokenCallback on_token = {}) const;
  // submit, then wait. Thread-safe.
  GenerateResult generate(const GenerateRequest& req, const TokenCallback& on_token = {}) const;
  EngineStats stats() const;
  int max_sequences() const { return max_sequences_; }
  int64_t kv_budget() const;          // bytes (EngineOptions::kv_budget resolved)
  int64_t kv_bytes_per_token() const;

  // Teacher-forced: for each position i of `tokens`, the top-k next-token log-probabilities
  // after tokens[0..i]. One batched forward pass.
  std::vector<std::vector<TokenLogprob>> prompt_logprobs(const std::vector<int32_t>& tokens, int top_k) const;
  // Teacher-forced scores of the tokens themselves: entry i is tokens[i + 1] with its
  // log-probability after tokens[0..i], and the top_k (>= 0) most likely tokens there.
  std::vector<GeneratedStep> score_tokens(const std::vector<int32_t>& tokens, int top_k) const;

 private:
  Engine() = default;
  std::shared_ptr<const Model> model_;
  std::optional<ChatTemplate> chat_override_;
  int n_ctx_ = 0;
  int micro_batch_ = 0;
  int max_sequences_ = 0;
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

}  // namespace fare
