// Token selection: small composable stages (penalties, temperature, top-k, top-p, min-p) and
// an owned, seeded RNG. Same parameters, same seed, same logits: same token, on every machine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fare {

struct SamplingParams {
  float temperature = 0.0f;         // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;                    // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off; keeps tokens with p >= min_p * p_max
  float presence_penalty = 0.0f;    // subtracted once from the logit of every generated token
  float repetition_penalty = 1.0f;  // 1: off; divides positive logits of seen tokens, multiplies negative ones
  uint64_t seed = 0;                // same seed, same output
};

// xoshiro256** seeded through splitmix64: fully specified, unlike std:: distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits
 private:
  uint64_t s_[4];
};

struct TokenProb {
  int32_t id;
  float value;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);  // throws fare::Error on out-of-range parameters
  // `seen`: tokens the repetition penalty looks at (prompt and generated, as Hugging Face);
  // `generated`: tokens the presence penalty looks at (generated only, as the OpenAI API).
  // The logits are modified in place.
  int32_t sample(std::span<float> logits, std::span<const int32_t> seen, std::span<const int32_t> generated);

  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  Rng rng_;
  std::vector<TokenProb> cand_;
  std::vector<uint8_t> mark_;
};

// The k most likely tokens with natural-log probabilities (descending, ties by lower id).
std::vector<TokenProb> top_logprobs(std::span<const float> logits, int k);
// log p(id) under softmax(logits).
float token_logprob(std::span<const float> logits, int32_t id);

}  // namespace fare
