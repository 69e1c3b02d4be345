// Test support: kernel sets as test parameters. Every set this build has is a parameter; a test
// skips the ones this CPU cannot run, so that the list of tests is the same on every machine.
#pragma once

#include <string>
#include <vector>

#include "ops/kernels.h"

namespace fare::test {

inline std::vector<std::string> kernel_set_names() {
  std::vector<std::string> names;
  for (const auto& k : kernel_sets()) names.emplace_back(k.set->name);
  return names;
}

// The set of that name, or nullptr; `info` gets what kernel_sets() says of it.
inline const KernelSet* find_kernel_set(const std::string& name, KernelSetInfo* info = nullptr) {
  for (const auto& k : kernel_sets())
    if (name == k.set->name) {
      if (info != nullptr) *info = k;
      return k.set;
    }
  return nullptr;
}

// A parameter as a test name: letters, digits and '_' only ("avx512-bf16" -> "avx512_bf16").
inline std::string test_name(std::string n) {
  for (char& ch : n)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) ch = '_';
  return n;
}

}  // namespace fare::test
