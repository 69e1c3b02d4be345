// A tensor as a file holds it: name, type, shape and where its bytes are (inside a MappedFile).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"

namespace fare {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  // Outermost dimension first, as in safetensors and PyTorch: a [rows, cols] matrix stores rows
  // contiguously. GGUF dims (innermost first) are reversed into this order by the GGUF reader.
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::string file;  // for error messages

  int64_t numel() const {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

// "[4224, 256]"
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace fare
