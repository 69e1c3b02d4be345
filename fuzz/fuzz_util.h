// What every fuzz target shares: the expected-outcome rule, findings, and scratch files.
//
// Bad input must give fare::Error (the project's first error tier); anything else that leaves a
// target is a finding: another exception type, a failed invariant (finding()), a crash or a
// sanitizer report (libFuzzer stops on those itself).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>

#include "common/error.h"

namespace fare::fuzz {

// A broken invariant: print what and stop, so that libFuzzer saves the input.
template <typename... Args>
[[noreturn]] void finding(Args&&... args) {
  const std::string msg = cat(std::forward<Args>(args)...);
  std::fprintf(stderr, "\nFINDING: %s\n", msg.c_str());
  std::abort();
}

#define FUZZ_CHECK(cond, ...)                                                                       \
  do {                                                                                              \
    if (!(cond)) ::fare::fuzz::finding(__FILE__, ":", __LINE__, ": ", #cond __VA_OPT__(, ": ", ) __VA_ARGS__); \
  } while (0)

// Runs f; fare::Error is the expected answer to bad input (returns false), success returns true.
// Any other exception is a finding.
template <typename F>
bool expect_only_errors(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  } catch (const std::exception& e) {
    finding("exception other than fare::Error: ", typeid(e).name(), ": ", e.what());
  } catch (...) {
    finding("exception of an unknown type");
  }
}

// For code that takes any input without throwing: every exception is a finding.
template <typename F>
void expect_no_exception(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    finding("unexpected exception: ", typeid(e).name(), ": ", e.what());
  } catch (...) {
    finding("exception of an unknown type");
  }
}

// A folder of this process's own under /dev/shm (memory, so that writing a file per input is
// cheap), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::path("/dev/shm") / cat("fare-fuzz-", ::getpid());
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path("/dev/shm") / cat("fare-fuzz-", ::getpid()), ec);
    });
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) finding("cannot write the scratch file ", path.string());
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) finding("cannot read ", path.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string fixture(const std::string& relative) { return std::string(FARE_FIXTURES_DIR) + "/" + relative; }
inline std::string data_file(const std::string& relative) { return std::string(FARE_DATA_DIR) + "/" + relative; }

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fare::fuzz
