// Random-weight Qwen3 models of any shape, so that benchmarks run without downloads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "convert/weight_source.h"
#include "model/config.h"

namespace fare {

// "fare-8b" (the default shape, = Qwen3-8B), or comma-separated key=value overrides of it,
// optionally after the preset name: "layers=2,hidden=256,heads=2,kv_heads=1,head_dim=128,ff=512".
// Keys: layers, hidden, heads, kv_heads, head_dim, ff, vocab, ctx, tied (0/1), rope_theta, eps.
// Throws fare::Error on an unknown key or preset, a bad number, or an inconsistent shape.
Config parse_shape(const std::string& spec);

// Weights drawn from a counter-based generator: the value of element i of tensor k depends only
// on (seed, k, i), so any row range can be produced alone, in parallel, and always the same.
// Values are near-normal (a sum of four uniforms), rounded to BF16 and flushed to 0 below 2^-16
// (so F32, F16 and BF16 files of one seed hold the same numbers). Scales follow the fixtures:
// norms 1 + 0.1 N, embedding N(0,1), matrices N(0,1)/sqrt(fan_in).
std::unique_ptr<WeightSource> random_source(const Config& c, uint64_t seed);

}  // namespace fare
