// The gpt-oss decoder, one micro-batch at a time. Reads top to bottom like Hugging Face's
// GptOssForCausalLM: embed, then per block attention (biases, a learned sink per head, a sliding
// window on every other layer, YaRN-scaled RoPE) and a mixture of experts with pre-norm
// residuals, then the final norm and the language-model head.

#include <algorithm>
#include <chrono>
#include <cmath>

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

// cos_sin of one position: head_dim / 2 cosines then sines of pos * inv_freq, times YaRN's
// attention factor (Hugging Face scales cos and sin themselves, so q and k each carry it).
void rope_cos_sin_scaled(int64_t pos, const std::vector<double>& inv_freq, double factor, float* cos_sin) {
  const auto half = static_cast<int64_t>(inv_freq.size());
  for (int64_t i = 0; i < half; ++i) {
    const double a = static_cast<double>(pos) * inv_freq[static_cast<size_t>(i)];
    cos_sin[i] = static_cast<float>(std::cos(a) * factor);
    cos_sin[half + i] = static_cast<float>(std::sin(a) * factor);
  }
}

// The experts' activation (Hugging Face GptOssExperts): the gate clamped from above, the up
// projection to [-limit, limit], out = (up + 1) * gate * sigmoid(alpha * gate).
void clamped_swiglu(float* gate, const float* up, int64_t n, float limit) {
  constexpr float kAlpha = 1.702f;
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit);
    const float u = std::clamp(up[i], -limit, limit);
    gate[i] = (u + 1.0f) * (g / (1.0f + std::exp(-kAlpha * g)));
  }
}

// The experts each token goes to and their weights: the n_used largest router logits (the lower
// index first among equal ones), softmax over those alone.
void route(const float* logits, int n_expert, int n_used, int32_t* chosen, float* weight) {
  thread_local std::vector<int32_t> order;
  order.resize(static_cast<size_t>(n_expert));
  for (int e = 0; e < n_expert; ++e) order[static_cast<size_t>(e)] = e;
  std::partial_sort(order.begin(), order.begin() + n_used, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  const float top = logits[order[0]];
  float sum = 0;
  for (int k = 0; k < n_used; ++k) sum += (weight[k] = std::exp(logits[order[static_cast<size_t>(k)]] - top));
  for (int k = 0; k < n_used; ++k) {
    chosen[k] = order[static_cast<size_t>(k)];
    weight[k] /= sum;
  }
}

// The mixture of experts over the micro-batch's normed rows xb, into out (overwritten). Each
// expert runs once over the rows routed to it (its weights read once for all of them); a
// token's streamed or tiled kernel is kept, and its experts' outputs are added in expert order,
// so its result does not depend on the batch.
void experts(const Config& c, const LayerWeights& w, const float* xb, int64_t n, int64_t ns, Activations& a,
             const Compute& cx, float* out) {
  const int64_t D = c.n_embd, F = c.n_ff, E = c.n_expert, K = c.n_expert_used;
  a.router.resize(static_cast<size_t>(n * E));
  a.chosen.resize(static_cast<size_t>(n * K));
  a.chosen_weight.resize(static_cast<size_t>(n * K));
  matmul(cx, w.router, xb, n, ns, a.router.data());
  for_tokens(cx, n, [&](int64_t t) {
    float* r = a.router.data() + t * E;
    add_in_place(r, w.router_bias.data(), E);
    route(r, c.n_expert, c.n_expert_used, a.chosen.data() + t * K, a.chosen_weight.data() + t * K);
  });
  std::fill(out, out + n * D, 0.0f);
  a.moe_x.resize(static_cast<size_t>(n * D));
  a.moe_out.resize(static_cast<size_t>(n * D));
  a.moe_gate.resize(static_cast<size_t>(n * F));
  a.moe_up.resize(static_cast<size_t>(n * F));
  std::vector<int64_t> rows;
  std::vector<float> weights;
  for (int64_t e = 0; e < E; ++e) {
    rows.clear();
    weights.clear();
    int64_t n_stream = 0;
    for (int64_t t = 0; t < n; ++t)
      for (int64_t k = 0; k < K; ++k)
        if (a.chosen[static_cast<size_t>(t * K + k)] == e) {
          rows.push_back(t);
          weights.push_back(a.chosen_weight[static_cast<size_t>(t * K + k)]);
          if (t < ns) ++n_stream;
        }
    const auto m = static_cast<int64_t>(rows.size());
    if (m == 0) continue;
    const ExpertWeights& x = w.experts[static_cast<size_t>(e)];
    for (int64_t i = 0; i < m; ++i) std::copy_n(xb + rows[static_cast<size_t>(i)] * D, D, a.moe_x.data() + i * D);
    const Product gate_up[] = {{&x.gate, a.moe_gate.data()}, {&x.up, a.moe_up.data()}};
    matmul(cx, gate_up, a.moe_x.data(), m, n_stream);
    for_tokens(cx, m, [&](int64_t i) {
      float* g = a.moe_gate.data() + i * F;
      float* u = a.moe_up.data() + i * F;
      add_in_place(g, x.gate_bias.data(), F);
      add_in_place(u, x.up_bias.data(), F);
      clamped_swiglu(g, u, F, c.swiglu_limit);
    });
    matmul(cx, x.down, a.moe_gate.data(), m, n_stream, a.moe_out.data());
    for_tokens(cx, m, [&](int64_t i) {
      const float* y = a.moe_out.data() + i * D;
      float* o = out + rows[static_cast<size_t>(i)] * D;
      const float wt = weights[static_cast<size_t>(i)];
      for (int64_t d = 0; d < D; ++d) o[d] += wt * (y[d] + x.down_bias[static_cast<size_t>(d)]);
    });
  }
}

}  // namespace

void gpt_oss_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                     const ActivationObserver& observe) {
  const Config& c = m.config;
  const int64_t n = batch.n_tokens();
  const int64_t E = c.n_embd, Q = c.q_dim(), KV = c.kv_dim(), D = c.head_dim;
  FARE_CHECK(n > 0 && n <= a.capacity);
  auto obs = [&](int layer, const char* name, const float* data, int64_t width) {
    if (observe) observe(layer, name, data, n, width);
  };

  const std::vector<int64_t> pos = token_positions(batch);
  const std::vector<double> inv_freq = c.rope_inv_freq();
  const double rope_factor = c.rope_attention_factor();
  for_tokens(cx, n, [&](int64_t t) {
    dequantize_matrix_row(m.tok_embd, batch.tokens[static_cast<size_t>(t)], a.x.data() + t * E);
    rope_cos_sin_scaled(pos[static_cast<size_t>(t)], inv_freq, rope_factor, a.rope.data() + t * D);
  });
  obs(-1, "embed", a.x.data(), E);
  auto norm_rows = [&](const float* x, const std::vector<float>& weight, float* out) {
    for_tokens(cx, n, [&](int64_t t) { rms_norm(x + t * E, weight.data(), E, c.rms_eps, out + t * E); });
  };
  auto add_rows = [&](float* x, const float* y) {
    for_tokens(cx, n, [&](int64_t t) { add_in_place(x + t * E, y + t * E, E); });
  };
  std::vector<AttentionSegment> segments;
  a.attention_seconds = 0;
  const int64_t ns = batch.n_stream;

  for (int l = 0; l < c.n_layer; ++l) {
    const LayerWeights& w = m.layers[static_cast<size_t>(l)];

    // Self-attention block.
    norm_rows(a.x.data(), w.attn_norm, a.xb.data());
    const Product qkv[] = {{&w.wq, a.q.data()}, {&w.wk, a.k.data()}, {&w.wv, a.v.data()}};
    matmul(cx, qkv, a.xb.data(), n, ns);
    for_tokens(cx, n, [&](int64_t t) {
      float* q = a.q.data() + t * Q;
      float* k = a.k.data() + t * KV;
      add_in_place(q, w.bq.data(), Q);
      add_in_place(k, w.bk.data(), KV);
      add_in_place(a.v.data() + t * KV, w.bv.data(), KV);
      const float* rope = a.rope.data() + t * D;
      for (int64_t h = 0; h < c.n_head; ++h) rope_neox(q + h * D, D, rope);
      for (int64_t h = 0; h < c.n_head_kv; ++h) rope_neox(k + h * D, D, rope);
    });
    obs(l, "q", a.q.data(), Q);
    obs(l, "k", a.k.data(), KV);
    obs(l, "v", a.v.data(), KV);
    store_kv(batch, kv, l, a.k.data(), a.v.data(), KV, segments);
    const auto t_attention = std::chrono::steady_clock::now();
    const AttentionShape shape{c.n_head, c.n_head_kv, D, w.sinks.data(), c.window(l)};
    attention(shape, a.q.data(), segments, a.att.data(), cx);
    a.attention_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_attention).count();
    obs(l, "attn", a.att.data(), Q);
    matmul(cx, w.wo, a.att.data(), n, ns, a.xb.data());
    for_tokens(cx, n, [&](int64_t t) { add_in_place(a.xb.data() + t * E, w.bo.data(), E); });
    add_rows(a.x.data(), a.xb.data());

    // Mixture-of-experts block.
    norm_rows(a.x.data(), w.ffn_norm, a.xb.data());
    a.moe_sum.resize(static_cast<size_t>(n * E));
    experts(c, w, a.xb.data(), n, ns, a, cx, a.moe_sum.data());
    add_rows(a.x.data(), a.moe_sum.data());
    obs(l, "out", a.x.data(), E);
  }

  output_logits(m, batch, a, cx, observe);
}

void model_forward(const Model& m, const ForwardBatch& batch, const KvLayout& kv, Activations& a, const Compute& cx,
                   const ActivationObserver& observe) {
  if (m.config.arch == Arch::GptOss) gpt_oss_forward(m, batch, kv, a, cx, observe);
  else qwen3_forward(m, batch, kv, a, cx, observe);
}

}  // namespace fare
