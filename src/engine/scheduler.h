// Continuous batching: every step runs one forward pass over the next token of each decoding
// sequence plus a chunk of pending prompt tokens (chunked prefill, so a long prompt never stalls
// the others for long), then hands each sequence its logits. Requests join between steps and
// leave when done or cancelled. The KV cache is a pool of blocks under one budget with a prefix
// cache (model/kv_cache.h); when the pool runs dry the youngest sequence gives its blocks back
// and is computed again later (its full blocks usually still cached), with its sampler state
// kept, so its output does not change.
//
// With kernels whose results do not depend on the rows beside them (the exact sets), a
// sequence's logits are bit-identical to a run on its own, whatever else shares its steps.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/session.h"

namespace fare {

struct SchedulerOptions {
  int max_sequences = 8;     // sequences in one step at most; more wait
  int step_tokens = 512;     // tokens of one forward pass at most (decode tokens + prompt chunk)
  int64_t kv_blocks = 0;     // the pool's size
  KvLayout kv_layout;
  bool prefix_cache = true;
  int n_ctx = 0;             // positions of one sequence at most
};

class Scheduler {
 public:
  // `compute` is held while a step runs (other users of the thread pool take turns with it).
  Scheduler(std::shared_ptr<const Model> model, const Compute& cx, std::mutex& compute, const SchedulerOptions& opts);
  ~Scheduler();  // cancels what is left, then stops the thread

  // Validates the request (throws fare::Error) and queues it.
  std::shared_ptr<Generation> submit(GenerateRequest req, TokenCallback on_token);
  EngineStats stats() const;

 private:
  struct Sequence;
  struct State;

  void loop();
  void admit_incoming();
  void drop_cancelled();
  bool plan_step();
  bool ensure_blocks(Sequence& s, int64_t positions);
  void preempt(Sequence& s);
  void match_prefix(Sequence& s);
  void schedule(Sequence& s, int64_t n);
  void build_batch();
  void run_step();
  void trace_step(double seconds) const;
  void on_logits(Sequence& s, const float* logits);
  void finish(Sequence& s, const char* reason);
  void fail_step(const std::exception_ptr& error);
  void release_blocks(Sequence& s);
  void publish_locked();  // stats_ from the lists and the pool; mu_ held

  std::shared_ptr<const Model> model_;
  Compute cx_;
  std::mutex& compute_;
  SchedulerOptions opts_;
  KvPool pool_;
  Activations act_;
  ForwardBatch batch_;
  std::vector<Sequence*> in_step_;    // sequences of the step being planned, in batch order
  std::vector<int32_t> registered_;   // blocks registered while planning it
  std::vector<float> work_;           // logits as the sampler modifies them
  bool trace_ = false;                // FARE_TRACE_STEPS set: one line per step on stderr

  // Owned by the scheduler thread.
  std::vector<std::unique_ptr<Sequence>> running_;  // oldest first
  std::deque<std::unique_ptr<Sequence>> waiting_;   // next to start first
  int64_t next_age_ = 0;

  // Shared with submitters.
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Sequence>> incoming_;
  bool stop_ = false;
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace fare
