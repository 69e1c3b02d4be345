#include "model/session.h"

#include <algorithm>

#include "common/error.h"
#include "ops/kernels.h"

namespace fare {

Activations::Activations(const Config& c, int64_t n) : capacity(n) {
  auto sized = [n](std::vector<float>& buf, int64_t width) { buf.assign(static_cast<size_t>(n * width), 0.0f); };
  sized(x, c.n_embd);
  sized(xb, c.n_embd);
  sized(q, c.q_dim());
  sized(k, c.kv_dim());
  sized(v, c.kv_dim());
  sized(att, c.q_dim());
  sized(gate, c.n_ff);
  sized(up, c.n_ff);
  sized(rope, c.head_dim);
  // Logits rows are allocated on first use: most batches want only the last row.
}

KvLayout kv_layout(const Config& c, DType type, int block_shift) {
  return {c.n_layer, static_cast<int>(c.kv_dim()), static_cast<int>(c.head_dim), type, block_shift};
}

Session::Session(std::shared_ptr<const Model> model, int n_ctx, Compute compute, int max_batch, DType kv_type)
    : model_(std::move(model)),
      cx_(compute),
      n_ctx_(n_ctx),
      pool_(kv_layout(model_->config, kv_type), kv_layout(model_->config, kv_type).blocks_for(std::max(n_ctx, 1))),
      act_(model_->config, std::min(max_batch, n_ctx)) {
  FARE_CHECK(n_ctx > 0 && max_batch > 0);
  FARE_CHECK(cx_.pool != nullptr && cx_.kernels != nullptr);
}

Session::Session(std::shared_ptr<const Model> model, int n_ctx, ThreadPool& pool, int max_batch)
    : Session(std::move(model), n_ctx, Compute{&pool, &select_kernels("auto")}, max_batch) {}

void Session::truncate(int pos) {
  if (pos < 0 || pos > pos_) fail("cannot truncate a session at position ", pos_, " to ", pos);
  pos_ = pos;
}

void Session::forward(std::span<const int32_t> tokens, bool all_logits, const LogitsSink& sink) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return;
  if (pos_ + n > n_ctx_) fail("context overflow: ", pos_, " tokens in the cache + ", n, " new > context length ", n_ctx_);
  const int32_t n_vocab = model_->config.n_vocab;
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab) fail("token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ", n_vocab, ")");
  // The session's own pool holds n_ctx positions, so a block is always there.
  while (blocks_.size() < pool_.layout().blocks_for(pos_ + n)) {
    const int32_t id = *pool_.allocate();
    blocks_.push(id, pool_.data(id));
  }

  int64_t out_index = 0;
  for (int64_t b0 = 0; b0 < n; b0 += act_.capacity) {
    const int64_t bn = std::min(act_.capacity, n - b0);
    const bool last_batch = b0 + bn == n;
    using L = ForwardBatch::Logits;
    batch_.clear();
    // One sequence alone: a few tokens stream, more are tiled (the count rule of ops/matmul.h).
    batch_.add(tokens.subspan(b0, bn), pos_, blocks_, bn <= kGemvMaxTokens,
               all_logits ? L::kAll : (last_batch ? L::kLast : L::kNone));
    const auto n_out = static_cast<int64_t>(batch_.out_rows.size());
    batch_.n_out_stream = n_out <= kGemvMaxTokens ? n_out : 0;
    model_forward(*model_, batch_, pool_.layout(), act_, cx_, observer_);
    pos_ += static_cast<int>(bn);
    for (size_t i = 0; i < batch_.out_rows.size(); ++i) sink(out_index++, act_.logits.data() + i * n_vocab);
  }
}

}  // namespace fare
