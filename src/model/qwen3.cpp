// The Qwen3 decoder, one micro-batch at a time. Reads top to bottom like Hugging Face's
// Qwen3ForCausalLM: embed, then per block attention and SwiGLU MLP with pre-norm residuals,
// then the final norm and the language-model head.

#include <chrono>

#include "common/error.h"
#include "common/thread_pool.h"
#include "model/batch.h"
#include "model/forward_steps.h"
#include "model/session.h"
#include "ops/attention.h"
#include "ops/kernels.h"
#include "ops/math.h"
#include "ops/matmul.h"

namespace fare {

namespace {

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
  const std::vector<int64_t> pos = token_positions(batch);
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
  std::vector<AttentionSegment> segments;
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
    store_kv(batch, kv, l, a.k.data(), a.v.data(), KV, segments);
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

  output_logits(m, batch, a, cx, observe);
}

}  // namespace fare
