// The Qwen3 decoder, one micro-batch at a time. Reads top to bottom like Hugging Face's
// Qwen3ForCausalLM: embed, then per block attention and SwiGLU MLP with pre-norm residuals,
// then the final norm and the language-model head.

#include "model/session.h"
#include "ops/attention.h"
#include "ops/math.h"
#include "ops/matmul.h"

namespace fare {

namespace {

void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// Row-wise RMSNorm of n rows of `width` floats.
void rms_norm_rows(const float* x, const float* w, int64_t n, int64_t width, float eps, float* out) {
  for (int64_t t = 0; t < n; ++t) rms_norm(x + t * width, w, width, eps, out + t * width);
}

// Qwen3: every head of q and k gets its own RMSNorm (shared weights across heads) before RoPE.
void norm_and_rope_heads(float* qk, int64_t n_tokens, int64_t n_heads, int64_t head_dim, const float* norm_w,
                         float eps, const float* rope) {
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = qk + (t * n_heads + h) * head_dim;
      rms_norm(head, norm_w, head_dim, eps, head);
      rope_neox(head, head_dim, rope + t * head_dim);
    }
}

}  // namespace

void qwen3_forward(const Model& m, KvCache& cache, Activations& a, std::span<const int32_t> tokens, int pos0,
                   int64_t n_out, const Compute& cx, const ActivationObserver& observe) {
  const Config& c = m.config;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const int64_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), F = c.n_ff, D = c.head_dim;
  auto obs = [&](int layer, const char* name, const float* data, int64_t width) {
    if (observe) observe(layer, name, data, n, width);
  };

  for (int64_t t = 0; t < n; ++t) {
    dequantize_matrix_row(m.tok_embd, tokens[t], a.x.data() + t * E);
    rope_cos_sin(pos0 + t, D, c.rope_theta, a.rope.data() + t * D);
  }
  obs(-1, "embed", a.x.data(), E);

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = m.layers[static_cast<size_t>(l)];

    // Self-attention block.
    rms_norm_rows(a.x.data(), w.attn_norm.data(), n, E, c.rms_eps, a.xb.data());
    matmul(cx, w.wq, a.xb.data(), n, a.q.data());
    matmul(cx, w.wk, a.xb.data(), n, a.k.data());
    matmul(cx, w.wv, a.xb.data(), n, a.v.data());
    norm_and_rope_heads(a.q.data(), n, c.n_head, D, w.q_norm.data(), c.rms_eps, a.rope.data());
    norm_and_rope_heads(a.k.data(), n, c.n_head_kv, D, w.k_norm.data(), c.rms_eps, a.rope.data());
    obs(l, "q", a.q.data(), Q);
    obs(l, "k", a.k.data(), KV);
    obs(l, "v", a.v.data(), KV);
    cache.store(l, pos0, static_cast<int>(n), a.k.data(), a.v.data());
    attention({c.n_head, c.n_head_kv, D}, a.q.data(), n, pos0, cache.rows(l), a.att.data(), cx);
    obs(l, "attn", a.att.data(), Q);
    matmul(cx, w.wo, a.att.data(), n, a.xb.data());
    add_in_place(a.x.data(), a.xb.data(), n * E);

    // SwiGLU MLP block.
    rms_norm_rows(a.x.data(), w.ffn_norm.data(), n, E, c.rms_eps, a.xb.data());
    matmul(cx, w.w_gate, a.xb.data(), n, a.gate.data());
    matmul(cx, w.w_up, a.xb.data(), n, a.up.data());
    swiglu(a.gate.data(), a.up.data(), n * F, a.gate.data());
    matmul(cx, w.w_down, a.gate.data(), n, a.xb.data());
    add_in_place(a.x.data(), a.xb.data(), n * E);
    obs(l, "out", a.x.data(), E);
  }

  if (n_out == 0) return;
  const float* last = a.x.data() + (n - n_out) * E;
  rms_norm_rows(last, m.output_norm.data(), n_out, E, c.rms_eps, a.xb.data());
  const size_t need = static_cast<size_t>(n_out) * c.n_vocab;
  if (a.logits.size() < need) a.logits.resize(need);
  matmul(cx, m.output, a.xb.data(), n_out, a.logits.data());
  if (observe) observe(-1, "logits", a.logits.data(), n_out, c.n_vocab);
}

}  // namespace fare
