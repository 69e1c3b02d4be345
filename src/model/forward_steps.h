// The steps the decoders share (model/qwen3.cpp, model/gpt_oss.cpp): per-token work over the
// micro-batch, positions, storing new keys and values, and the head.
#pragma once

#include <cstdint>
#include <vector>

#include "common/thread_pool.h"
#include "model/batch.h"
#include "model/session.h"
#include "ops/attention.h"
#include "ops/matmul.h"

namespace fare {

// fn(t) for every token t of the micro-batch, split over the pool's threads. The steps between
// the matrix products are per token, so the split changes no result; one token (decode) runs
// inline. Left on the calling thread, they took about 8 % of a two-thread pp512.
template <class Fn>
void for_tokens(const Compute& cx, int64_t n, Fn&& fn) {
  cx.pool->parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) fn(t);
  });
}

inline void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// Every token's position in its sequence.
std::vector<int64_t> token_positions(const ForwardBatch& batch);

// Layer l's new keys and values (rows of kv_width per token) into every piece's cache, then each
// piece's view of that layer for attention. Every row is stored before any piece attends, so a
// sequence may read rows another writes in this same pass (a shared prefix block being filled).
void store_kv(const ForwardBatch& batch, const KvLayout& kv, int l, const float* k, const float* v, int64_t kv_width,
              std::vector<AttentionSegment>& segments);

// The final norm and the head, only for the rows whose logits are wanted, into a.logits.
void output_logits(const Model& m, const ForwardBatch& batch, Activations& a, const Compute& cx,
                   const ActivationObserver& observe);

}  // namespace fare
