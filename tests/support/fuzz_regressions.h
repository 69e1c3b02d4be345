// Inputs on which a fuzz target (fuzz/) once found a bug, kept under
// tests/<area>/fuzz_regressions/ and run again by the area's tests with the target's own check.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <typeinfo>
#include <vector>

#include "common/error.h"

namespace fare::test {

// The files of tests/<area>/fuzz_regressions/ whose names start with `prefix`, sorted.
inline std::vector<std::filesystem::path> fuzz_regressions(const std::string& area, const std::string& prefix) {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir = std::filesystem::path(FARE_TESTS_DIR) / area / "fuzz_regressions";
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Bad input must give fare::Error: true when f returned, false when it threw fare::Error, and a
// test failure naming the exception for anything else.
template <typename F>
bool returns_or_fare_error(F&& f, const std::string& what) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": " << typeid(e).name() << ": " << e.what();
    return false;
  }
}

}  // namespace fare::test
