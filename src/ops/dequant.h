// Reference decoders of every stored weight type: the plain, obviously-correct version that
// the fast kernels are tested against.
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace fare {

// Decodes one row of n values (n a multiple of the type's block size) from `src` to float.
// F8_E4M3 decodes the raw e4m3 values; its block scale is applied by the caller.
void dequantize_row(DType t, const void* src, float* dst, int64_t n);

}  // namespace fare
