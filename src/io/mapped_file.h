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
// With `evict`, the pages also leave the page cache unless another process maps them: for a
// copy made while memory is short, so that the kernel does not make room by evicting the pages
// not yet copied, which would then be read from the disk again.
void release_mapped_pages(const void* p, size_t n, bool evict = false);

// Memory the kernel could give this process without swapping (MemAvailable, which counts the
// page cache it may evict); the maximum of size_t where that is unknown.
size_t available_memory();

}  // namespace fare
