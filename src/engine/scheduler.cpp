#include "engine/scheduler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "engine/text_tracker.h"
#include "ops/kernels.h"

namespace fare {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

// What a submitter holds: the result once there is one, and the cancel flag the scheduler reads
// before every step.
struct Scheduler::State : Generation {
  mutable std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  GenerateResult result;
  std::exception_ptr error;
  std::atomic<bool> cancel_requested{false};

  GenerateResult wait() override {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return finished; });
    if (error) std::rethrow_exception(error);
    return result;
  }
  bool wait_for(double seconds) override {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return finished; });
  }
  void cancel() override { cancel_requested = true; }
  bool done() const override {
    std::lock_guard lock(mu);
    return finished;
  }
  void complete(GenerateResult r, std::exception_ptr e) {
    {
      std::lock_guard lock(mu);
      result = std::move(r);
      error = std::move(e);
      finished = true;
    }
    cv.notify_all();
  }
};

struct Scheduler::Sequence {
  Sequence(const Tokenizer& tok, GenerateRequest r, TokenCallback cb)
      : req(std::move(r)), on_token(std::move(cb)), sampler(req.sampling), text(tok, req.stop) {}

  std::shared_ptr<State> state = std::make_shared<State>();
  GenerateRequest req;
  TokenCallback on_token;
  Sampler sampler;
  TextTracker text;
  GenerateResult res;
  std::vector<int32_t> tokens;  // the prompt, then every sampled token
  int64_t n_prompt = 0;
  int64_t n_ctx = 0;       // positions this sequence may fill
  int64_t n_computed = 0;  // positions whose rows are in the cache
  int64_t n_planned = 0;   // tokens it computes in the step being planned
  int64_t logits_row = -1;  // its row of the step's logits, when the step reaches its last token
  bool started = false;  // has been admitted to the running set at least once
  bool done = false;
  BlockTable blocks;
  std::vector<uint64_t> keys;  // prefix-cache keys of its full blocks, in order
  Clock::time_point t_submit = Clock::now(), t_first;
};

Scheduler::Scheduler(std::shared_ptr<const Model> model, const Compute& cx, std::mutex& compute,
                     const SchedulerOptions& opts)
    : model_(std::move(model)),
      cx_(cx),
      compute_(compute),
      opts_(opts),
      pool_(opts.kv_layout, opts.kv_blocks),
      act_(model_->config, opts.step_tokens) {
  FARE_CHECK(opts.max_sequences > 0 && opts.step_tokens > 0 && opts.n_ctx > 0);
  stats_.kv_blocks = pool_.n_blocks();
  stats_.kv_block_tokens = opts.kv_layout.block_tokens();
  stats_.kv_budget_bytes = pool_.n_blocks() * opts.kv_layout.block_bytes();
  const char* trace = std::getenv("FARE_TRACE_STEPS");
  trace_ = trace != nullptr && *trace != '\0' && std::string_view(trace) != "0";
  thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::shared_ptr<Generation> Scheduler::submit(GenerateRequest req, TokenCallback on_token) {
  const int64_t n_prompt = static_cast<int64_t>(req.prompt.size());
  if (n_prompt == 0) fail("the prompt is empty");
  if (req.max_tokens < 0) fail("max_tokens is ", req.max_tokens, ", expected >= 0");
  if (req.top_logprobs < 0) fail("top_logprobs is ", req.top_logprobs, ", expected >= 0");
  if (n_prompt > opts_.n_ctx) fail("the prompt has ", n_prompt, " tokens, more than the context length ", opts_.n_ctx);
  const int32_t n_vocab = model_->config.n_vocab;
  for (int64_t i = 0; i < n_prompt; ++i)
    if (req.prompt[i] < 0 || req.prompt[i] >= n_vocab)
      fail("token id ", req.prompt[i], " at index ", i, " is outside the vocabulary [0, ", n_vocab, ")");
  const int64_t n_ctx = std::min<int64_t>(opts_.n_ctx, n_prompt + req.max_tokens);
  const KvLayout& l = opts_.kv_layout;
  if (l.blocks_for(n_ctx) > pool_.n_blocks())
    fail("the request can reach ", n_ctx, " positions (", n_prompt, " of prompt + ", req.max_tokens,
         " to generate) and needs ", l.blocks_for(n_ctx) * l.block_bytes(), " bytes of KV cache; the whole budget is ",
         pool_.n_blocks() * l.block_bytes(), " bytes (", pool_.n_blocks() * l.block_tokens(),
         " positions): raise the KV budget or lower max_tokens");

  auto seq = std::make_unique<Sequence>(*model_->tokenizer, std::move(req), std::move(on_token));
  seq->tokens = seq->req.prompt;
  seq->n_prompt = n_prompt;
  seq->n_ctx = n_ctx;
  seq->res.n_prompt = static_cast<int>(n_prompt);
  std::shared_ptr<Generation> handle = seq->state;
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(seq));
    ++stats_.waiting;
  }
  wake_.notify_all();
  return handle;
}

EngineStats Scheduler::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Scheduler::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !incoming_.empty() || !running_.empty() || !waiting_.empty(); });
      if (stop_) break;
    }
    admit_incoming();
    drop_cancelled();
    if (plan_step()) {
      const auto t0 = trace_ ? Clock::now() : Clock::time_point{};
      run_step();
      if (trace_) trace_step(std::chrono::duration<double>(Clock::now() - t0).count());
    } else if (!waiting_.empty()) {
      // Nothing could start: only when the one running sequence has just given its blocks back to
      // wait for room; it starts again on the next look.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::lock_guard lock(mu_);
    publish_locked();
  }
  admit_incoming();
  for (auto& s : running_) finish(*s, "cancelled");
  for (auto& s : waiting_) finish(*s, "cancelled");
  running_.clear();
  waiting_.clear();
}

void Scheduler::admit_incoming() {
  std::lock_guard lock(mu_);
  for (auto& s : incoming_) waiting_.push_back(std::move(s));
  incoming_.clear();
}

void Scheduler::drop_cancelled() {
  for (auto& s : running_)
    if (s->state->cancel_requested) finish(*s, "cancelled");
  std::erase_if(running_, [](const auto& s) { return s->done; });
  for (auto& s : waiting_)
    if (s->state->cancel_requested) finish(*s, "cancelled");
  std::erase_if(waiting_, [](const auto& s) { return s->done; });
}

bool Scheduler::plan_step() {
  batch_.clear();
  in_step_.clear();
  registered_.clear();
  int64_t budget = opts_.step_tokens;
  // Running sequences first, oldest first: a decoding one takes one token, a prompt a chunk.
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Sequence& s = *running_[i];
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.tokens.size()) - s.n_computed, budget);
    if (!ensure_blocks(s, s.n_computed + n)) break;  // s was the youngest and gave its blocks back
    schedule(s, n);
    budget -= n;
  }
  // Then new ones, in order, while there is room in the step, the batch and the pool.
  while (budget > 0 && !waiting_.empty() && static_cast<int>(running_.size()) < opts_.max_sequences) {
    Sequence& s = *waiting_.front();
    match_prefix(s);
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(s.tokens.size()) - s.n_computed, budget);
    if (opts_.kv_layout.blocks_for(s.n_computed + n) - s.blocks.size() > pool_.n_available()) {
      release_blocks(s);  // not now: the blocks it matched stay cached for it
      break;
    }
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    if (!s.started) {  // prompt tokens served from the cache, counted once (not again after a preemption)
      s.started = true;
      s.res.n_cached = static_cast<int>(std::min(s.n_computed, s.n_prompt));
      std::lock_guard lock(mu_);
      stats_.prompt_tokens_cached += s.res.n_cached;
    }
    FARE_CHECK(ensure_blocks(s, s.n_computed + n));
    schedule(s, n);
    budget -= n;
  }
  build_batch();
  return !in_step_.empty();
}

void Scheduler::build_batch() {
  batch_.clear();
  using L = ForwardBatch::Logits;
  // Generated tokens take the streaming kernels and prompt tokens the tiled ones, whatever the
  // step holds (a sequence computed again after a preemption has both): so each token gets the
  // bits it gets alone. The batch takes the streamed ones first.
  for (const bool generated : {true, false})
    for (Sequence* s : in_step_) {
      const int64_t begin = s->n_computed, end = begin + s->n_planned;
      const int64_t lo = generated ? std::max(begin, s->n_prompt) : begin;
      const int64_t hi = generated ? end : std::min(end, s->n_prompt);
      if (lo >= hi) continue;
      const std::span<const int32_t> toks(s->tokens.data() + lo, static_cast<size_t>(hi - lo));
      const bool last = hi == static_cast<int64_t>(s->tokens.size());
      const int64_t row = batch_.add(toks, lo, s->blocks, generated, last ? L::kLast : L::kNone);
      if (row >= 0) s->logits_row = row;
    }
}

bool Scheduler::ensure_blocks(Sequence& s, int64_t positions) {
  while (s.blocks.size() < opts_.kv_layout.blocks_for(positions)) {
    if (const auto id = pool_.allocate()) {
      s.blocks.push(*id, pool_.data(*id));
      continue;
    }
    // Out of blocks: the youngest running sequence makes room (it has not been planned yet:
    // planning goes oldest first). When that is s itself, s waits.
    Sequence& victim = *running_.back();
    preempt(victim);
    if (&victim == &s) return false;
  }
  return true;
}

void Scheduler::preempt(Sequence& s) {
  release_blocks(s);
  {
    std::lock_guard lock(mu_);
    ++stats_.preemptions;
  }
  for (auto it = running_.begin(); it != running_.end(); ++it)
    if (it->get() == &s) {
      waiting_.push_front(std::move(*it));
      running_.erase(it);
      return;
    }
}

void Scheduler::release_blocks(Sequence& s) {
  // Last block first, so that a prefix's first blocks are the last to be evicted.
  for (int64_t i = s.blocks.size() - 1; i >= 0; --i) pool_.release(s.blocks.id(i));
  s.blocks.clear();
  s.keys.clear();
  s.n_computed = 0;
}

void Scheduler::match_prefix(Sequence& s) {
  if (!opts_.prefix_cache || s.blocks.size() > 0) return;
  const int64_t bt = opts_.kv_layout.block_tokens();
  // The last token is always computed: its logits are what the sequence needs next.
  const int64_t max_blocks = (static_cast<int64_t>(s.tokens.size()) - 1) / bt;
  uint64_t key = 0;
  int32_t parent = -1;
  for (int64_t i = 0; i < max_blocks; ++i) {
    const std::span<const int32_t> toks(s.tokens.data() + i * bt, static_cast<size_t>(bt));
    const uint64_t k = KvPool::chain_key(key, toks);
    const int32_t id = pool_.lookup(k, parent, toks);
    if (id < 0) break;
    s.blocks.push(id, pool_.data(id));
    s.keys.push_back(k);
    key = k;
    parent = id;
  }
  s.n_computed = s.blocks.size() * bt;
}

void Scheduler::schedule(Sequence& s, int64_t n) {
  s.n_planned = n;
  in_step_.push_back(&s);
  if (s.n_computed < s.n_prompt) {
    std::lock_guard lock(mu_);
    stats_.prompt_tokens_computed += std::min(s.n_computed + n, s.n_prompt) - s.n_computed;
  }
  if (!opts_.prefix_cache) return;
  // Blocks this step fills up become findable now: a sequence starting later in this same step
  // may share them (every row of a pass is stored before any row attends).
  const int64_t bt = opts_.kv_layout.block_tokens(), full = (s.n_computed + n) / bt;
  for (auto i = static_cast<int64_t>(s.keys.size()); i < full; ++i) {
    const std::span<const int32_t> toks(s.tokens.data() + i * bt, static_cast<size_t>(bt));
    const uint64_t k = KvPool::chain_key(i > 0 ? s.keys[i - 1] : 0, toks);
    pool_.register_full(s.blocks.id(i), k, i > 0 ? s.blocks.id(i - 1) : -1, toks);
    registered_.push_back(s.blocks.id(i));
    s.keys.push_back(k);
  }
}

void Scheduler::run_step() {
  try {
    std::lock_guard lock(compute_);
    model_forward(*model_, batch_, opts_.kv_layout, act_, cx_, {});
  } catch (...) {
    fail_step(std::current_exception());
    return;
  }
  const auto n_vocab = static_cast<size_t>(model_->config.n_vocab);
  for (Sequence* s : in_step_) {
    s->n_computed += s->n_planned;
    s->n_planned = 0;
    if (s->n_computed == static_cast<int64_t>(s->tokens.size()))
      on_logits(*s, act_.logits.data() + static_cast<size_t>(s->logits_row) * n_vocab);
  }
  std::erase_if(running_, [](const auto& s) { return s->done; });
  std::lock_guard lock(mu_);
  ++stats_.steps;
  stats_.step_tokens += batch_.n_tokens();
}

// What one step held and where its time went: enough to tell prefill from decode steps, how many
// sequences shared the weights' read, and how much of a step attention over long caches took.
void Scheduler::trace_step(double seconds) const {
  int64_t last = 0;
  for (const auto& pc : batch_.pieces) last = std::max(last, pc.pos0 + pc.n_tokens);
  std::fprintf(stderr, "fare step: %.1f ms, attention %.1f ms, %lld tokens (%lld generated), %zu sequences, up to position %lld\n",
               seconds * 1e3, act_.attention_seconds * 1e3, static_cast<long long>(batch_.n_tokens()),
               static_cast<long long>(batch_.n_stream), in_step_.size(), static_cast<long long>(last));
}

void Scheduler::on_logits(Sequence& s, const float* logits) {
  const auto n_vocab = static_cast<size_t>(model_->config.n_vocab);
  const std::span<const float> l(logits, n_vocab);
  GenerateResult& res = s.res;
  if (res.tokens.empty()) s.t_first = Clock::now();
  if (s.req.return_logits) res.final_logits.assign(l.begin(), l.end());
  if (static_cast<int>(res.tokens.size()) == s.req.max_tokens) return finish(s, "length");
  try {
    GeneratedStep st;
    if (s.req.top_logprobs > 0)
      for (const auto& t : top_logprobs(l, s.req.top_logprobs)) st.top.push_back({t.id, t.value});
    work_.assign(l.begin(), l.end());
    st.id = s.sampler.sample(work_, s.tokens, res.tokens);
    st.logprob = token_logprob(l, st.id);
    res.tokens.push_back(st.id);
    s.tokens.push_back(st.id);
    const auto& eos = model_->eos_ids;
    const bool is_eos = s.req.stop_at_eos && std::find(eos.begin(), eos.end(), st.id) != eos.end();
    const bool stopped = !is_eos && s.text.push(st.id);
    const bool last = is_eos || stopped || static_cast<int>(res.tokens.size()) == s.req.max_tokens ||
                      s.n_computed >= s.n_ctx;
    const char* reason = is_eos ? "eos" : stopped ? "stop" : "length";
    if (last && !stopped && !is_eos && s.text.flush()) reason = "stop";
    res.steps.push_back(std::move(st));
    {
      std::lock_guard lock(mu_);
      ++stats_.generated_tokens;
    }
    if (s.on_token && !s.on_token(s.text.take_ready(last), res.steps.back())) return finish(s, "cancelled");
    if (last) finish(s, reason);
  } catch (...) {
    release_blocks(s);
    s.done = true;
    {
      std::lock_guard lock(mu_);
      publish_locked();
    }
    s.state->complete({}, std::current_exception());
  }
}

void Scheduler::finish(Sequence& s, const char* reason) {
  release_blocks(s);
  GenerateResult& res = s.res;
  res.finish_reason = reason;
  res.text = s.text.text();
  const auto now = Clock::now();
  const auto first = res.tokens.empty() ? now : s.t_first;
  res.prefill_seconds = seconds_between(s.t_submit, first);
  res.decode_seconds = seconds_between(first, now);
  s.done = true;
  {
    // Before the submitter wakes: what it reads of the stats then already counts this request out.
    std::lock_guard lock(mu_);
    ++stats_.requests_finished;
    publish_locked();
  }
  s.state->complete(std::move(res), nullptr);
}

void Scheduler::publish_locked() {
  auto live = [](const auto& list) {
    return static_cast<int>(std::count_if(list.begin(), list.end(), [](const auto& s) { return !s->done; }));
  };
  stats_.running = live(running_);
  stats_.waiting = live(waiting_) + static_cast<int>(incoming_.size());
  stats_.kv_blocks_used = pool_.n_in_use();
  stats_.kv_blocks_cached = pool_.n_cached();
}

void Scheduler::fail_step(const std::exception_ptr& error) {
  for (int32_t id : registered_) pool_.unregister(id);  // their rows were never written
  for (Sequence* s : in_step_) {
    release_blocks(*s);
    s->done = true;
  }
  {
    std::lock_guard lock(mu_);
    publish_locked();
  }
  for (Sequence* s : in_step_) s->state->complete({}, error);
  std::erase_if(running_, [](const auto& s) { return s->done; });
}

}  // namespace fare
