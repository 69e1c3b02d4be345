// The Qwen3 decoder, one micro-batch at a time. Reads top to bottom like Hugging Face's
// Qwen3ForCausalLM: embed, then per block attention and SwiGLU MLP with pre-norm residuals,
// then the final norm and the language-model head.

#include <chrono>

#include "common/error.h"
#include "common/thread_pool.h"
#include "model/batch.h"
#include "model/session.h"
#include "ops/attention.h"
#include "ops/kernels.h"
#include "ops/math.h"
#include "ops/matmul.h"

namespace fare {

namespace {

// fn(t) for every token t of the micro-batch, split over the pool's threads. The steps between
// the matrix products are per token, so the split changes no result; one token (decode) runs
// inline. Left on the calling thread, they took about 8 % of a two-thread pp512.
template <class Fn>
void for_tokens(const Compute& cx, int64_t n, Fn&& fn) {
  cx.pool->parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) fn(t);
  });
}

void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// Qwen3: every head of q and k gets its own RMSNorm (shared weights across heads) before RoPE.
void norm_and_rope_heads(float* qk, int64_t n_heads, int64_t head_dim, const float* norm_w, float eps,
                         const float* rope) {
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = qk + h * head_dim;
    rms_norm(head, norm_w, head_dim, eps, head);
    rope_neox(head, head_dim, rope);
  }
}

}  // namespace

void qwen3_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                   const ActivationObserver& observe) {
  const Config& c = m.config;
  const int64_t n = batch.n_tokens();
  const int64_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff, D = c.head_dim;
  FARE_CHECK(n > 0 && n <= a.capacity);
  auto obs = [&](int layer, const char* name, const float* data, int64_t width) {
    if (observe) observe(layer, name, data, n, width);
  };

  // Every token's position, for RoPE.
  std::vector<int64_t> pos(static_cast<size_t>(n));
  for (const auto& pc : batch.pieces)
    for (int64_t i = 0; i < pc.n_tokens; ++i) pos[static_cast<size_t>(pc.t0 + i)] = pc.pos0 + i;
  for_tokens(cx, n, [&](int64_t t) {
    dequantize_matrix_row(m.tok_embd, batch.tokens[static_cast<size_t>(t)], a.x.data() + t * E);
    rope_cos_sin(pos[static_cast<size_t>(t)], D, c.rope_theta, a.rope.data() + t * D);
  });
  obs(-1, "embed", a.x.data(), E);
  // RMSNorm of every token's row of width E, and x += y over the micro-batch.
  auto norm_rows = [&](const float* x, const float* weight, int64_t rows, float* out) {
    for_tokens(cx, rows, [&](int64_t t) { rms_norm(x + t * E, weight, E, c.rms_eps, out + t * E); });
  };
  auto add_rows = [&](float* x, const float* y) {
    for_tokens(cx, n, [&](int64_t t) { add_in_place(x + t * E, y + t * E, E); });
  };
  std::vector<AttentionSegment> segments(batch.pieces.size());
  a.attention_seconds = 0;
  const int64_t ns = batch.n_stream;  // tokens that take the streaming kernels (ops/matmul.h)

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = m.layers[static_cast<size_t>(l)];

    // Self-attention block.
    norm_rows(a.x.data(), w.attn_norm.data(), n, a.xb.data());
    const Product qkv[] = {{&w.wq, a.q.data()}, {&w.wk, a.k.data()}, {&w.wv, a.v.data()}};
    matmul(cx, qkv, a.xb.data(), n, ns);
    for_tokens(cx, n, [&](int64_t t) {
      const float* rope = a.rope.data() + t * D;
      norm_and_rope_heads(a.q.data() + t * Q, c.n_head, D, w.q_norm.data(), c.rms_eps, rope);
      norm_and_rope_heads(a.k.data() + t * KV, c.n_head_kv, D, w.k_norm.data(), c.rms_eps, rope);
    });
    obs(l, "q", a.q.data(), Q);
    obs(l, "k", a.k.data(), KV);
    obs(l, "v", a.v.data(), KV);
    // Every piece's new rows are stored before any attends, so a sequence may read rows another
    // one writes in this same pass (a shared prefix block being filled).
    for (size_t i = 0; i < batch.pieces.size(); ++i) {
      const auto& pc = batch.pieces[i];
      pc.kv->store(kv, l, pc.pos0, pc.n_tokens, a.k.data() + pc.t0 * KV, a.v.data() + pc.t0 * KV);
      segments[i] = {pc.t0, pc.n_tokens, pc.pos0, pc.kv->rows(kv, l)};
    }
    const auto t_attention = std::chrono::steady_clock::now();
    attention({c.n_head, c.n_head_kv, D}, a.q.data(), segments, a.att.data(), cx);
    a.attention_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_attention).count();
    obs(l, "attn", a.att.data(), Q);
    matmul(cx, w.wo, a.att.data(), n, ns, a.xb.data());
    add_rows(a.x.data(), a.xb.data());

    // SwiGLU MLP block.
    norm_rows(a.x.data(), w.ffn_norm.data(), n, a.xb.data());
    const Product gate_up[] = {{&w.w_gate, a.gate.data()}, {&w.w_up, a.up.data()}};
    matmul(cx, gate_up, a.xb.data(), n, ns);
    const SwigluFn act = cx.kernels->swiglu != nullptr ? cx.kernels->swiglu : &swiglu;
    for_tokens(cx, n, [&](int64_t t) { act(a.gate.data() + t * F, a.up.data() + t * F, F, a.gate.data() + t * F); });
    matmul(cx, w.w_down, a.gate.data(), n, ns, a.xb.data());
    add_rows(a.x.data(), a.xb.data());
    obs(l, "out", a.x.data(), E);
  }

  // The final norm and the head, only for the rows whose logits are wanted.
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
