// Helpers shared by the file-format tests: fixture paths, temp files, a raw GGUF byte builder
// and an expectation for fare::Error messages.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace fare::test {

inline std::string fixture(const std::string& rel) { return std::string(FARE_FIXTURES_DIR) + "/" + rel; }

inline std::string temp_path(const std::string& name) { return ::testing::TempDir() + "fare_io_" + name; }

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Overwrites sizeof(T) bytes at `pos` with `v` (little-endian).
template <typename T>
void poke(std::vector<uint8_t>& bytes, size_t pos, T v) {
  ASSERT_LE(pos + sizeof(T), bytes.size());
  std::memcpy(bytes.data() + pos, &v, sizeof(T));
}

// Runs `fn`, which must throw fare::Error, and checks that the message holds every phrase.
// Returns the message so callers can print or check more.
inline std::string expect_error(const std::function<void()>& fn, std::initializer_list<std::string_view> phrases) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (auto p : phrases) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no fare::Error thrown (expected one mentioning '" << *phrases.begin() << "')";
  return {};
}

// Raw GGUF bytes, field by field, so tests can build files the writer would refuse to produce.
class GgufBytes {
 public:
  template <typename T>
  GgufBytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  GgufBytes& str(std::string_view s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    bytes.insert(bytes.end(), {'G', 'G', 'U', 'F'});
    return put(version).put(n_tensors).put(n_kv);
  }
  // A key and its value type; the caller appends the value.
  GgufBytes& key(std::string_view k, uint32_t type) { return str(k).put(type); }
  GgufBytes& kv_u32(std::string_view k, uint32_t v) { return key(k, 4).put(v); }
  GgufBytes& kv_str(std::string_view k, std::string_view v) { return key(k, 8).str(v); }
  // ne innermost first, as stored.
  GgufBytes& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t ggml_type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (auto d : ne) put(d);
    return put(ggml_type).put(offset);
  }
  GgufBytes& pad(size_t alignment = 32) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  GgufBytes& zeros(size_t n) {
    bytes.resize(bytes.size() + n, 0);
    return *this;
  }

  std::vector<uint8_t> bytes;
};

}  // namespace fare::test
