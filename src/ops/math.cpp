#include "ops/math.h"

#include <algorithm>
#include <cmath>

namespace fare {

void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  // double: the mean of squares over thousands of values; 8 partial sums, so that the adds do
  // not wait on each other one by one (a single chain cost 1 % of a prefill).
  double part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) part[j] += static_cast<double>(x[i + j]) * x[i + j];
  for (; i < n; ++i) part[0] += static_cast<double>(x[i]) * x[i];
  double ss = 0;
  for (double p : part) ss += p;
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
  for (i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void rope_cos_sin(int64_t pos, int64_t head_dim, double theta, float* cos_sin) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double inv_freq = std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    const double a = static_cast<double>(pos) * inv_freq;
    cos_sin[i] = static_cast<float>(std::cos(a));
    cos_sin[half + i] = static_cast<float>(std::sin(a));
  }
}

void rope_neox(float* head, int64_t head_dim, const float* cos_sin) {
  const int64_t half = head_dim / 2;
  const float* c = cos_sin;
  const float* s = cos_sin + half;
  for (int64_t i = 0; i < half; ++i) {
    const float x0 = head[i], x1 = head[i + half];
    head[i] = x0 * c[i] - x1 * s[i];
    head[i + half] = x1 * c[i] + x0 * s[i];
  }
}

void softmax(float* x, int64_t n) {
  const float m = *std::max_element(x, x + n);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace fare
