// Tensor bytes produced on demand while a file is written, so that a file larger than memory
// (an 8B model) never has to be held whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace fare {

// Receives the next `n` bytes of the tensor being written.
using ByteSink = std::function<void(const uint8_t* data, size_t n)>;
// Writes all of one tensor's bytes, in order, in as many sink calls as it likes.
using TensorProducer = std::function<void(const ByteSink& sink)>;

}  // namespace fare
