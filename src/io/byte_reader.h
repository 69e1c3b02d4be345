// A bounds-checked little-endian cursor over a byte range, for parsing untrusted binary files.
// Every read checks the remaining size first; running out is a fare::Error naming the file,
// what was being read, the byte offset and the file size.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "common/error.h"

namespace fare {

static_assert(std::endian::native == std::endian::little, "the file readers assume a little-endian host");

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, const std::string& path) : data_(data), size_(size), path_(path) {}

  size_t pos() const { return pos_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& path() const { return path_; }

  // What is being read ("header", "metadata key 'general.name'"), for error messages.
  void set_context(std::string context) { context_ = std::move(context); }
  const std::string& context() const { return context_; }

  template <typename T>
  T read() {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // A u64 length followed by that many bytes; `max_len` bounds lengths that are absurd even
  // where the file could hold them.
  std::string read_string(uint64_t max_len) {
    const uint64_t n = read<uint64_t>();
    if (n > remaining())
      error("string length ", n, " at byte ", pos_ - 8, " runs past the end of the file (", size_,
            " bytes; truncated?)");
    if (n > max_len) error("string length ", n, " exceeds the limit of ", max_len, " bytes (corrupt length?)");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }

  // "file: context: message".
  template <typename... Args>
  [[noreturn]] void error(Args&&... args) const {
    fail(path_, ": ", context_, ": ", std::forward<Args>(args)...);
  }

 private:
  void require(size_t n) const {
    if (n > remaining())
      error("truncated: needs ", n, " bytes at byte ", pos_, ", but the file ends at ", size_);
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string path_;
  std::string context_ = "header";
};

}  // namespace fare
