// Memory for big, long-lived buffers straight from the OS: page-aligned, zero until written,
// backed by huge pages where the kernel allows (fewer page faults and TLB misses for gigabytes
// of weights), and returned to the OS when the buffer goes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fare {

class PageBuffer {
 public:
  explicit PageBuffer(size_t bytes);  // throws fare::Error when the OS refuses
  ~PageBuffer();
  PageBuffer(PageBuffer&& o) noexcept;
  PageBuffer& operator=(PageBuffer&& o) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace fare
