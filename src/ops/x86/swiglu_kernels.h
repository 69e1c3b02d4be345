// SwiGLU over the lanes of a vector type V (avx2.cpp's V256, avx512.cpp's V512):
// out = gate / (1 + e^-gate) * up, with V::exp (within 2 ulp) in place of the C library's expf,
// whose one call per element of the MLP's width had been 2-3 % of a prefill. Internal linkage:
// see kernels_x86.h.
#pragma once

#include <cstdint>

namespace fare {
namespace {

namespace sw {

template <class V>
typename V::F silu_times(typename V::F g, typename V::F u) {
  // e^-g past 88 overflows V::exp's exponent; there g / (1 + e^88) is below 1e-36 anyway.
  const typename V::F e = V::exp(V::min(V::sub(V::zero(), g), V::set1(88.0f)));
  return V::mul(V::div(g, V::add(V::set1(1.0f), e)), u);
}

// out may be gate.
template <class V>
void swiglu(const float* gate, const float* up, int64_t n, float* out) {
  constexpr int L = V::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) V::storeu(out + i, silu_times<V>(V::loadu(gate + i), V::loadu(up + i)));
  if (i < n) V::store_partial(out + i, silu_times<V>(V::load_partial(gate + i, n - i), V::load_partial(up + i, n - i)), n - i);
}

}  // namespace sw

}  // namespace
}  // namespace fare
