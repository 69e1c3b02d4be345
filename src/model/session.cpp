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

Session::Session(std::shared_ptr<const Model> model, int n_ctx, Compute compute, int max_batch, DType kv_type)
    : model_(std::move(model)),
      cx_(compute),
      cache_(model_->config.n_layer, n_ctx, model_->config.kv_dim(), kv_type),
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
  if (pos_ + n > cache_.n_ctx())
    fail("context overflow: ", pos_, " tokens in the cache + ", n, " new > context length ", cache_.n_ctx());
  const int32_t n_vocab = model_->config.n_vocab;
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab) fail("token id ", tokens[i], " at index ", i, " is outside the vocabulary [0, ", n_vocab, ")");

  int64_t out_index = 0;
  for (int64_t b0 = 0; b0 < n; b0 += act_.capacity) {
    const int64_t bn = std::min(act_.capacity, n - b0);
    const bool last_batch = b0 + bn == n;
    const int64_t n_out = all_logits ? bn : (last_batch ? 1 : 0);
    qwen3_forward(*model_, cache_, act_, tokens.subspan(b0, bn), pos_, n_out, cx_, observer_);
    pos_ += static_cast<int>(bn);
    for (int64_t i = 0; i < n_out; ++i) sink(out_index++, act_.logits.data() + i * n_vocab);
  }
}

}  // namespace fare
