#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/error.h"
#include "common/thread_pool.h"
#include "model/model.h"
#include "model/session.h"
#include "ops/kernels.h"

namespace fare {

struct Engine::Shared {
  Shared(int n_threads, const KernelSet& k, DType kv) : pool(n_threads), kernels(&k), kv_type(kv) {}
  ThreadPool pool;
  const KernelSet* kernels;
  DType kv_type;
  Compute cx() { return {&pool, kernels}; }
  // The pool runs one parallel region at a time; concurrent generations take turns per step.
  std::mutex compute;
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

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Text generation state: decoded text, stop-string search, and what has been handed out.
class TextTracker {
 public:
  TextTracker(const Tokenizer& tok, const std::vector<std::string>& stop) : dec_(tok), stop_(stop) {
    for (const auto& s : stop_) holdback_ = std::max(holdback_, s.size() ? s.size() - 1 : 0);
  }

  // Adds a token; returns true when a stop string now ends the text.
  bool push(int32_t id) {
    const size_t before = text_.size();
    text_ += dec_.push(id);
    return find_stop(before);
  }
  bool flush() {
    const size_t before = text_.size();
    text_ += dec_.flush();
    return find_stop(before);
  }
  // Text that can no longer become part of a stop string.
  std::string take_ready(bool final) {
    const size_t limit = final ? text_.size() : (text_.size() > holdback_ ? text_.size() - holdback_ : 0);
    std::string out;
    if (limit > emitted_) out = text_.substr(emitted_, limit - emitted_);
    emitted_ = std::max(emitted_, limit);
    return out;
  }
  const std::string& text() const { return text_; }

 private:
  bool find_stop(size_t before) {
    size_t best = std::string::npos;
    for (const auto& s : stop_) {
      if (s.empty()) continue;
      const size_t from = before >= s.size() ? before - s.size() + 1 : 0;
      best = std::min(best, text_.find(s, from));
    }
    if (best == std::string::npos) return false;
    text_.resize(best);
    return true;
  }

  StreamDecoder dec_;
  std::vector<std::string> stop_;
  std::string text_;
  size_t holdback_ = 0;
  size_t emitted_ = 0;
};

}  // namespace

std::unique_ptr<Engine> Engine::open(const std::string& path, const EngineOptions& opts) {
  if (opts.n_threads < 0) fail("threads is ", opts.n_threads, ", expected >= 0");
  if (opts.n_ctx < 0) fail("context length is ", opts.n_ctx, ", expected >= 0");
  if (opts.micro_batch < 0) fail("micro-batch is ", opts.micro_batch, " tokens, expected >= 0");
  DType kv_type = DType::F32;
  if (opts.kv_cache == "f16") kv_type = DType::F16;
  else if (opts.kv_cache == "bf16") kv_type = DType::BF16;
  else if (opts.kv_cache != "f32") fail("KV cache type is '", opts.kv_cache, "', expected f32, f16 or bf16");
  const KernelSet& kernels = select_kernels(opts.kernels);
  std::unique_ptr<Engine> e(new Engine());
  e->shared_ = std::make_unique<Shared>(opts.n_threads > 0 ? opts.n_threads : ThreadPool::default_threads(), kernels,
                                        kv_type);
  const Compute cx = e->shared_->cx();
  e->model_ = Model::load(path, opts.repack_weights ? &cx : nullptr);
  if (!opts.chat_template_file.empty()) {
    std::ifstream in(opts.chat_template_file, std::ios::binary);
    if (!in) fail(opts.chat_template_file, ": cannot open the chat template file");
    e->chat_override_.emplace(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  const int train_ctx = e->model_->config.n_ctx_train;
  e->n_ctx_ = opts.n_ctx > 0 ? opts.n_ctx : std::min(train_ctx, kDefaultMaxCtx);
  e->micro_batch_ = opts.micro_batch > 0 ? opts.micro_batch : default_micro_batch(*e->model_, kernels);
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

GenerateResult Engine::generate(const GenerateRequest& req, const TokenCallback& on_token) const {
  if (req.prompt.empty()) fail("the prompt is empty");
  if (req.max_tokens < 0) fail("max_tokens is ", req.max_tokens, ", expected >= 0");
  if (req.top_logprobs < 0) fail("top_logprobs is ", req.top_logprobs, ", expected >= 0");
  const int n_prompt = static_cast<int>(req.prompt.size());
  if (n_prompt > n_ctx_) fail("the prompt has ", n_prompt, " tokens, more than the context length ", n_ctx_);
  Sampler sampler(req.sampling);

  GenerateResult res;
  res.n_prompt = n_prompt;
  // The cache holds what this request can reach, not the whole context.
  const int n_ctx = static_cast<int>(std::min<int64_t>(n_ctx_, static_cast<int64_t>(n_prompt) + req.max_tokens));
  Session session(model_, n_ctx, shared_->cx(), micro_batch_, shared_->kv_type);
  const auto n_vocab = static_cast<size_t>(model_->config.n_vocab);
  std::vector<float> logits(n_vocab), work(n_vocab);
  auto keep_logits = [&](int64_t, const float* l) { std::copy(l, l + n_vocab, logits.begin()); };

  auto t0 = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(shared_->compute);
    session.forward(req.prompt, false, keep_logits);
  }
  res.prefill_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();

  std::vector<int32_t> seen = req.prompt;
  TextTracker text(tokenizer(), req.stop);
  const auto& eos = model_->eos_ids;
  res.finish_reason = "length";
  for (int step = 0; step < req.max_tokens; ++step) {
    GeneratedStep st;
    if (req.top_logprobs > 0)
      for (const auto& t : top_logprobs(logits, req.top_logprobs)) st.top.push_back({t.id, t.value});
    work = logits;
    st.id = sampler.sample(work, seen, res.tokens);
    st.logprob = token_logprob(logits, st.id);
    res.tokens.push_back(st.id);
    seen.push_back(st.id);
    const bool is_eos = req.stop_at_eos && std::find(eos.begin(), eos.end(), st.id) != eos.end();
    const bool stopped = !is_eos && text.push(st.id);
    const bool last = is_eos || stopped || step + 1 == req.max_tokens || session.pos() >= n_ctx;
    if (last && !stopped && !is_eos && text.flush()) res.finish_reason = "stop";
    if (is_eos) res.finish_reason = "eos";
    if (stopped) res.finish_reason = "stop";
    res.steps.push_back(st);
    if (on_token && !on_token(text.take_ready(last), res.steps.back())) {
      res.finish_reason = "cancelled";
      break;
    }
    if (last) break;
    std::lock_guard lock(shared_->compute);
    session.forward(std::span<const int32_t>(&st.id, 1), false, keep_logits);
  }
  res.text = text.text();
  res.decode_seconds = seconds_since(t0);
  if (req.return_logits) res.final_logits = std::move(logits);
  return res;
}

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

}  // namespace fare
