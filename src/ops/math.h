// The small per-token operations of a transformer block, named after the math.
#pragma once

#include <cstdint>

namespace fare {

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(const float* x, const float* weight, int64_t n, float eps, float* out);

// NEOX-style rotary embedding (Hugging Face rotate_half): pairs (i, i + d/2) of each head are
// rotated by pos * inv_freq[i]. cos_sin holds d/2 cosines then d/2 sines for this position.
void rope_neox(float* head, int64_t head_dim, const float* cos_sin);
// Fills cos_sin (head_dim floats) for one position; angles in double precision because
// positions reach 32k while theta is 1e6.
void rope_cos_sin(int64_t pos, int64_t head_dim, double theta, float* cos_sin);

// In place: x = softmax(x).
void softmax(float* x, int64_t n);

// out = silu(gate) * up
void swiglu(const float* gate, const float* up, int64_t n, float* out);

}  // namespace fare
