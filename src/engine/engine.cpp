#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/error.h"
#include "common/thread_pool.h"
#include "model/model.h"
#include "engine/scheduler.h"
#include "model/session.h"
#include "ops/kernels.h"

namespace fare {

struct Engine::Shared {
  Shared(int n_threads, const KernelSet& k, DType kv) : pool(n_threads), kernels(&k), kv_type(kv) {}
  ThreadPool pool;
  const KernelSet* kernels;
  DType kv_type;
  Compute cx() { return {&pool, kernels}; }
  // The pool runs one parallel region at a time: the scheduler's steps and teacher-forced
  // scoring take turns.
  std::mutex compute;
  std::unique_ptr<Scheduler> scheduler;  // declared last: its thread stops before the rest goes
};

namespace {

constexpr int kDefaultMaxCtx = 32768;

// Tokens per forward micro-batch. Prefill reads every weight once per micro-batch, so a larger one
// reads less per token, but its activations and results take more cache. Measured at pp512
// (FARE-8B shape cut to 8 layers, 2 threads, alternated): 512 instead of 256 gave +4-5 % with BF16
// weights (2 bytes per weight), +3-5 % with Q8_0 and -2 to -3 % with Q4_K_M. Integer weights on
// bf16 tiles (amx-bf16) run the BF16 weights' kernel and take its micro-batch (not measured
// apart).
int default_micro_batch(const Model& m, const KernelSet& k) {
  const DType t = m.layers.empty() ? DType::F32 : m.layers[0].w_gate.type;
  if (k.of(t).gemm_weights_bf16) return 512;
  return t == DType::BF16 || t == DType::F16 || t == DType::F32 || t == DType::Q8_0 ? 512 : 256;
}

// MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read.
int64_t memory_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}

// Half of the memory left after the weights, so that the machine keeps room for the page cache
// and everything else, but never more than every sequence at full context needs, and never less
// than one full-context sequence or 1 GiB, whichever is smaller (a tiny model on a full machine
// still runs).
int64_t default_kv_budget(int64_t weight_bytes, int64_t bytes_per_token, int n_ctx, int max_sequences) {
  const int64_t all_full = bytes_per_token * n_ctx * max_sequences;
  const int64_t floor = std::min<int64_t>(bytes_per_token * n_ctx, int64_t{1} << 30);
  const int64_t room = (memory_available() - weight_bytes) / 2;
  return std::min(all_full, std::max(room, floor));
}

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& path, const EngineOptions& opts) {
  if (opts.n_threads < 0) fail("threads is ", opts.n_threads, ", expected >= 0");
  if (opts.n_ctx < 0) fail("context length is ", opts.n_ctx, ", expected >= 0");
  if (opts.micro_batch < 0) fail("micro-batch is ", opts.micro_batch, " tokens, expected >= 0");
  if (opts.kv_cache != "auto" && opts.kv_cache != "f32" && opts.kv_cache != "f16" && opts.kv_cache != "bf16")
    fail("KV cache type is '", opts.kv_cache, "', expected auto, f32, f16 or bf16");
  if (opts.repack != "auto" && opts.repack != "all" && opts.repack != "off")
    fail("repack is '", opts.repack, "', expected auto, all or off");
  const KernelSet& kernels = select_kernels(opts.kernels);
  const DType kv_type = opts.kv_cache == "f16"    ? DType::F16
                        : opts.kv_cache == "bf16" ? DType::BF16
                        : opts.kv_cache == "f32"  ? DType::F32
                        : kernels.exact           ? DType::F32
                                                  : DType::F16;
  std::unique_ptr<Engine> e(new Engine());
  e->shared_ = std::make_unique<Shared>(opts.n_threads > 0 ? opts.n_threads : ThreadPool::default_threads(), kernels,
                                        kv_type);
  const Compute cx = e->shared_->cx();
  e->model_ = Model::load(path, opts.repack == "off" ? nullptr : &cx, opts.repack == "all");
  if (!opts.chat_template_file.empty()) {
    std::ifstream in(opts.chat_template_file, std::ios::binary);
    if (!in) fail(opts.chat_template_file, ": cannot open the chat template file");
    e->chat_override_.emplace(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  const int train_ctx = e->model_->config.n_ctx_train;
  e->n_ctx_ = opts.n_ctx > 0 ? opts.n_ctx : std::min(train_ctx, kDefaultMaxCtx);
  e->micro_batch_ = opts.micro_batch > 0 ? opts.micro_batch : default_micro_batch(*e->model_, kernels);
  if (opts.max_sequences < 0) fail("max sequences is ", opts.max_sequences, ", expected >= 0");
  if (opts.kv_budget < 0) fail("KV budget is ", opts.kv_budget, " bytes, expected >= 0");
  e->max_sequences_ = opts.max_sequences > 0 ? opts.max_sequences : kDefaultMaxSequences;
  SchedulerOptions so;
  so.kv_layout = kv_layout(e->model_->config, kv_type);
  so.max_sequences = e->max_sequences_;
  so.step_tokens = std::max(e->micro_batch_, e->max_sequences_);
  so.prefix_cache = opts.prefix_cache;
  so.n_ctx = e->n_ctx_;
  const int64_t budget =
      opts.kv_budget > 0 ? opts.kv_budget
                         : default_kv_budget(static_cast<int64_t>(e->model_->weight_bytes),
                                             so.kv_layout.bytes_per_token(), e->n_ctx_, e->max_sequences_);
  so.kv_blocks = budget / so.kv_layout.block_bytes();
  if (so.kv_blocks < 1)
    fail("a KV budget of ", budget, " bytes holds no block of ", so.kv_layout.block_tokens(), " positions (",
         so.kv_layout.block_bytes(), " bytes)");
  e->shared_->scheduler = std::make_unique<Scheduler>(e->model_, cx, e->shared_->compute, so);
  return e;
}

Engine::~Engine() = default;

const Tokenizer& Engine::tokenizer() const { return *model_->tokenizer; }

const ChatTemplate& Engine::chat_template() const {
  if (chat_override_) return *chat_override_;
  if (!model_->chat_template) fail("this model has no usable chat template: ", model_->chat_template_error);
  return *model_->chat_template;
}

std::string Engine::model_id() const {
  std::filesystem::path p(model_->path);
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

ModelInfo Engine::info() const {
  const Model& m = *model_;
  const Config& c = m.config;
  ModelInfo i;
  i.path = m.path;
  i.format = m.format;
  i.architecture = c.architecture;
  i.n_layer = c.n_layer;
  i.n_embd = c.n_embd;
  i.n_head = c.n_head;
  i.n_head_kv = c.n_head_kv;
  i.head_dim = c.head_dim;
  i.n_ff = c.n_ff;
  i.n_vocab = c.n_vocab;
  i.n_ctx_train = c.n_ctx_train;
  i.rms_eps = c.rms_eps;
  i.rope_theta = c.rope_theta;
  i.tie_embeddings = c.tie_embeddings;
  i.n_expert = c.n_expert;
  i.n_expert_used = c.n_expert_used;
  i.sliding_window = c.sliding_window;
  i.sliding_layers = static_cast<int>(std::count(c.sliding.begin(), c.sliding.end(), true));
  i.yarn_factor = c.yarn.factor;
  for (const LayerWeights& l : m.layers)
    for (const ExpertWeights& x : l.experts)
      for (const WeightMatrix* w : {&x.gate, &x.up, &x.down}) i.expert_bytes += w->row_stride * static_cast<size_t>(w->rows);
  i.weight_types.assign(m.dtype_counts.begin(), m.dtype_counts.end());
  i.weight_bytes = m.weight_bytes;
  i.packed_matrices = m.packed_matrices;
  i.packed_bytes = m.packed_bytes;
  i.embedding_bytes = m.tok_embd.row_stride * static_cast<size_t>(m.tok_embd.rows);
  i.tokenizer_tokens = m.tokenizer->n_vocab();
  i.bos = m.tokenizer->spec().bos;
  i.eos = m.tokenizer->spec().eos;
  i.pad = m.tokenizer->spec().pad;
  i.eos_ids = m.eos_ids;
  if (chat_override_) i.chat_family = chat_override_->family();
  else if (m.chat_template) i.chat_family = m.chat_template->family();
  i.chat_error = m.chat_template_error;
  return i;
}

int Engine::n_threads() const { return shared_->pool.size(); }
std::string Engine::kernels() const { return shared_->kernels->name; }
std::string Engine::kv_cache() const {
  return shared_->kv_type == DType::F16 ? "f16" : shared_->kv_type == DType::BF16 ? "bf16" : "f32";
}
const std::vector<int32_t>& Engine::eos_ids() const { return model_->eos_ids; }

std::vector<int32_t> Engine::tokenize(const std::string& text, bool parse_special) const {
  return tokenizer().encode(text, parse_special);
}

std::string Engine::detokenize(const std::vector<int32_t>& ids) const { return tokenizer().decode(ids); }

std::string Engine::render_chat(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const {
  return chat_template().render(messages, opts);
}

std::vector<int32_t> Engine::chat_prompt(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const {
  if (opts.special_in_content) return tokenize(render_chat(messages, opts), true);
  // Token text inside a message stays text: an answer under judgment must not be able to close
  // its turn and write the judge's reply.
  const RenderedChat chat = chat_template().render_marked(messages, opts);
  return tokenizer().encode_with_literal_spans(chat.text, chat.content);
}

std::shared_ptr<Generation> Engine::submit(GenerateRequest req, TokenCallback on_token) const {
  return shared_->scheduler->submit(std::move(req), std::move(on_token));
}

GenerateResult Engine::generate(const GenerateRequest& req, const TokenCallback& on_token) const {
  return submit(req, on_token)->wait();
}

EngineStats Engine::stats() const { return shared_->scheduler->stats(); }

int64_t Engine::kv_budget() const { return stats().kv_budget_bytes; }

int64_t Engine::kv_bytes_per_token() const { return kv_layout(model_->config, shared_->kv_type).bytes_per_token(); }

std::vector<std::vector<TokenLogprob>> Engine::prompt_logprobs(const std::vector<int32_t>& tokens, int top_k) const {
  if (tokens.empty()) fail("no tokens to score");
  if (static_cast<int>(tokens.size()) > n_ctx_)
    fail(tokens.size(), " tokens are more than the context length ", n_ctx_);
  if (top_k < 1) fail("top_k is ", top_k, ", expected >= 1");
  Session session(model_, static_cast<int>(tokens.size()), shared_->cx(), micro_batch_,
                  shared_->kv_type);
  const auto n_vocab = static_cast<size_t>(model_->config.n_vocab);
  std::vector<std::vector<TokenLogprob>> out(tokens.size());
  std::lock_guard lock(shared_->compute);
  session.forward(tokens, true, [&](int64_t i, const float* l) {
    for (const auto& t : top_logprobs(std::span<const float>(l, n_vocab), top_k)) out[i].push_back({t.id, t.value});
  });
  return out;
}

std::vector<GeneratedStep> Engine::score_tokens(const std::vector<int32_t>& tokens, int top_k) const {
  if (tokens.empty()) fail("no tokens to score");
  if (static_cast<int>(tokens.size()) > n_ctx_)
    fail(tokens.size(), " tokens are more than the context length ", n_ctx_);
  if (top_k < 0) fail("top_k is ", top_k, ", expected >= 0");
  const auto n_vocab = static_cast<size_t>(model_->config.n_vocab);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || static_cast<size_t>(tokens[i]) >= n_vocab)
      fail("token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ", n_vocab, ")");
  Session session(model_, static_cast<int>(tokens.size()), shared_->cx(), micro_batch_, shared_->kv_type);
  std::vector<GeneratedStep> out(tokens.size() - 1);
  std::lock_guard lock(shared_->compute);
  session.forward(tokens, true, [&](int64_t i, const float* l) {
    if (i + 1 >= static_cast<int64_t>(tokens.size())) return;
    // log-softmax at one id, in double: the sum over a large vocabulary loses digits in float
    float mx = l[0];
    for (size_t v = 1; v < n_vocab; ++v) mx = std::max(mx, l[v]);
    double sum = 0;
    for (size_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(l[v] - mx));
    GeneratedStep& s = out[i];
    s.id = tokens[i + 1];
    s.logprob = static_cast<float>(static_cast<double>(l[s.id] - mx) - std::log(sum));
    if (top_k > 0)
      for (const auto& t : top_logprobs(std::span<const float>(l, n_vocab), top_k)) s.top.push_back({t.id, t.value});
  });
  return out;
}

}  // namespace fare
