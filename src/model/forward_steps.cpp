#include "model/forward_steps.h"

#include "ops/math.h"

namespace fare {

std::vector<int64_t> token_positions(const ForwardBatch& batch) {
  std::vector<int64_t> pos(static_cast<size_t>(batch.n_tokens()));
  for (const auto& pc : batch.pieces)
    for (int64_t i = 0; i < pc.n_tokens; ++i) pos[static_cast<size_t>(pc.t0 + i)] = pc.pos0 + i;
  return pos;
}

void store_kv(const ForwardBatch& batch, const KvLayout& kv, int l, const float* k, const float* v, int64_t kv_width,
              std::vector<AttentionSegment>& segments) {
  segments.resize(batch.pieces.size());
  for (size_t i = 0; i < batch.pieces.size(); ++i) {
    const auto& pc = batch.pieces[i];
    pc.kv->store(kv, l, pc.pos0, pc.n_tokens, k + pc.t0 * kv_width, v + pc.t0 * kv_width);
    segments[i] = {pc.t0, pc.n_tokens, pc.pos0, pc.kv->rows(kv, l)};
  }
}

void output_logits(const Model& m, const ForwardBatch& batch, Activations& a, const Compute& cx,
                   const ActivationObserver& observe) {
  const Config& c = m.config;
  const int64_t E = c.n_embd;
  const auto n_out = static_cast<int64_t>(batch.out_rows.size());
  if (n_out == 0) return;
  for_tokens(cx, n_out, [&](int64_t i) {
    rms_norm(a.x.data() + batch.out_rows[static_cast<size_t>(i)] * E, m.output_norm.data(), E, c.rms_eps,
             a.xb.data() + i * E);
  });
  const size_t need = static_cast<size_t>(n_out) * c.n_vocab;
  if (a.logits.size() < need) a.logits.resize(need);
  matmul(cx, m.output, a.xb.data(), n_out, batch.n_out_stream, a.logits.data());
  if (observe) observe(-1, "logits", a.logits.data(), n_out, c.n_vocab);
}

}  // namespace fare
