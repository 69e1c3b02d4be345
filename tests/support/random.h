// Test support: seeded random test data.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace fare::test {

// n values from a normal distribution with mean 0 and the given standard deviation.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace fare::test
