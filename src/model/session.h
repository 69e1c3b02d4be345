// Mutable per-sequence state over a shared read-only Model: KV cache, position and scratch. One
// sequence on its own (tests, teacher-forced scoring); many sequences at once go through the
// engine's scheduler, which runs the same forward pass over a batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace fare {

class ThreadPool;

// Receives the logits of output `index` (0-based among the requested outputs).
using LogitsSink = std::function<void(int64_t index, const float* logits)>;
// Sees named intermediates: layer (-1 outside blocks), name, [n_tokens][width] floats.
using ActivationObserver = std::function<void(int layer, const char* name, const float* data, int64_t n_tokens, int64_t width)>;

// Scratch for one micro-batch of tokens; sized once per session.
struct Activations {
  explicit Activations(const Config& c, int64_t n_tokens);
  int64_t capacity;
  std::vector<float> x, xb, q, k, v, att, gate, up, rope;  // rope: [n_tokens][head_dim]
  std::vector<float> logits;                               // [n_tokens][n_vocab]
  double attention_seconds = 0;  // spent in attention by the last forward pass (the step trace's)
  // gpt-oss's experts, sized on first use: router logits, each token's chosen experts and their
  // weights, one expert's gathered rows and products, and the mixture's output.
  std::vector<float> router, chosen_weight, moe_x, moe_gate, moe_up, moe_out, moe_sum;
  std::vector<int32_t> chosen;
};

class Session {
 public:
  // compute: the thread pool and kernel set to run on (ops/kernels.h); kv_type: what the KV cache
  // stores (F32, or F16 / BF16 for half the memory).
  Session(std::shared_ptr<const Model> model, int n_ctx, Compute compute, int max_batch = 256,
          DType kv_type = DType::F32);
  // The pool with the best kernels for this CPU ("auto") and an F32 cache.
  Session(std::shared_ptr<const Model> model, int n_ctx, ThreadPool& pool, int max_batch = 256);

  const Model& model() const { return *model_; }
  int pos() const { return pos_; }
  int n_ctx() const { return n_ctx_; }

  // Runs `tokens` at positions pos() .. pos() + n - 1. all_logits: sink gets every position;
  // otherwise only the last. Throws fare::Error when the context would overflow or an id is
  // outside the vocabulary.
  void forward(std::span<const int32_t> tokens, bool all_logits, const LogitsSink& sink);
  // Forgets every position >= pos.
  void truncate(int pos);
  void set_observer(ActivationObserver obs) { observer_ = std::move(obs); }

 private:
  std::shared_ptr<const Model> model_;
  Compute cx_;
  int n_ctx_;
  KvPool pool_;
  BlockTable blocks_;
  Activations act_;
  ForwardBatch batch_;
  int pos_ = 0;
  ActivationObserver observer_;
};

// Every token of `batch` through the Qwen3 network (model/qwen3.cpp), at most a.capacity of
// them; logits rows for batch.out_rows, in that order, into a.logits.
void qwen3_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                   const ActivationObserver& observe);

// The same through the gpt-oss network (model/gpt_oss.cpp).
void gpt_oss_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                     const ActivationObserver& observe);
// Whichever of the two the model's architecture is.
void model_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                   const ActivationObserver& observe);

// The layout of a model's KV cache (block_shift: log2 positions per block).
KvLayout kv_layout(const Config& c, DType type, int block_shift = 4);

}  // namespace fare
