// Shared by the judge tests: files, temporary folders, the benchmark data path.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "judge/backend.h"

namespace fare::judge::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A fresh, empty folder for one test, in the build tree: checkouts that run their tests at the
// same time on one machine must not share it.
inline std::filesystem::path temp_dir_path(const std::string& name) {
  return std::filesystem::path(FARE_BINARY_DIR) / "test-scratch" / ("judge_" + name);
}

inline std::filesystem::path temp_dir(const std::string& name) {
  std::filesystem::path p = temp_dir_path(name);
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

inline JudgeCompletion completion(std::string text) {
  JudgeCompletion c;
  c.text = std::move(text);
  return c;
}

inline std::string data_path(const std::string& rel) { return std::string(FARE_DATA_DIR) + "/" + rel; }

}  // namespace fare::judge::testing
