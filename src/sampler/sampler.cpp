#include "sampler/sampler.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace fare {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

bool by_value_then_id(const TokenProb& a, const TokenProb& b) {
  return a.value != b.value ? a.value > b.value : a.id < b.id;
}

double log_sum_exp(std::span<const float> logits) {
  const float m = *std::max_element(logits.begin(), logits.end());
  double s = 0;
  for (float l : logits) s += std::exp(static_cast<double>(l) - m);
  return m + std::log(s);
}

}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& p) : p_(p), rng_(p.seed) {
  if (!(p.temperature >= 0)) fail("temperature is ", p.temperature, ", expected >= 0");
  if (p.top_k < 0) fail("top_k is ", p.top_k, ", expected >= 0");
  if (!(p.top_p > 0 && p.top_p <= 1)) fail("top_p is ", p.top_p, ", expected in (0, 1]");
  if (!(p.min_p >= 0 && p.min_p <= 1)) fail("min_p is ", p.min_p, ", expected in [0, 1]");
  if (!(p.repetition_penalty > 0)) fail("repetition_penalty is ", p.repetition_penalty, ", expected > 0");
  if (!std::isfinite(p.presence_penalty)) fail("presence_penalty is ", p.presence_penalty, ", expected a finite number");
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> seen, std::span<const int32_t> generated) {
  const auto n = static_cast<int32_t>(logits.size());
  FARE_CHECK(n > 0);
  mark_.assign(logits.size(), 0);
  // Penalties: each token once, however often it occurred.
  if (p_.repetition_penalty != 1.0f)
    for (int32_t id : seen)
      if (id >= 0 && id < n && !(mark_[id] & 1)) {
        mark_[id] |= 1;
        float& l = logits[id];
        l = l > 0 ? l / p_.repetition_penalty : l * p_.repetition_penalty;
      }
  if (p_.presence_penalty != 0.0f)
    for (int32_t id : generated)
      if (id >= 0 && id < n && !(mark_[id] & 2)) {
        mark_[id] |= 2;
        logits[id] -= p_.presence_penalty;
      }

  if (p_.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; ++i)
      if (logits[i] > logits[best]) best = i;
    return best;
  }

  cand_.resize(logits.size());
  for (int32_t i = 0; i < n; ++i) cand_[i] = {i, logits[i] / p_.temperature};
  size_t keep = cand_.size();
  if (p_.top_k > 0 && static_cast<size_t>(p_.top_k) < keep) keep = static_cast<size_t>(p_.top_k);
  std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(keep), cand_.end(), by_value_then_id);
  cand_.resize(keep);

  // Probabilities of the kept candidates (softmax over them, in double).
  const double m = cand_[0].value;
  double sum = 0;
  for (auto& c : cand_) sum += (c.value = static_cast<float>(std::exp(static_cast<double>(c.value) - m)));
  for (auto& c : cand_) c.value = static_cast<float>(c.value / sum);

  if (p_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    double cum = 0;
    size_t k = 0;
    while (k < cand_.size() && cum < p_.top_p) cum += cand_[k++].value;
    cand_.resize(std::max<size_t>(k, 1));
  }
  if (p_.min_p > 0.0f) {
    const float floor = p_.min_p * cand_[0].value;
    size_t k = 1;
    while (k < cand_.size() && cand_[k].value >= floor) ++k;
    cand_.resize(k);
  }

  double total = 0;
  for (const auto& c : cand_) total += c.value;
  double r = rng_.uniform() * total;
  for (const auto& c : cand_) {
    r -= c.value;
    if (r < 0) return c.id;
  }
  return cand_.back().id;
}

std::vector<TokenProb> top_logprobs(std::span<const float> logits, int k) {
  const double lse = log_sum_exp(logits);
  std::vector<TokenProb> all(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) all[i] = {static_cast<int32_t>(i), logits[i]};
  const size_t kk = std::min(all.size(), static_cast<size_t>(std::max(k, 0)));
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(kk), all.end(), by_value_then_id);
  all.resize(kk);
  for (auto& t : all) t.value = static_cast<float>(t.value - lse);
  return all;
}

float token_logprob(std::span<const float> logits, int32_t id) {
  FARE_CHECK(id >= 0 && static_cast<size_t>(id) < logits.size());
  return static_cast<float>(logits[id] - log_sum_exp(logits));
}

}  // namespace fare
