// A read-only memory map of a whole file. Weights are used in place from the page cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fare {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws fare::Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Gives back the pages wholly inside [p, p + n) of a read-only file mapping: they leave this
// process's resident set, stay in the page cache, and are mapped again if touched. For weights
// that were copied into another layout and will not be read from the file again.
void release_mapped_pages(const void* p, size_t n);

}  // namespace fare
