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

// A fresh, empty folder for one test, under the build tree's temp area.
inline std::filesystem::path temp_dir(const std::string& name) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / ("fare_judge_tests_" + name);
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
