// Reference encoders: float rows into the stored weight types, the inverse of dequant.h.
//
// Q8_0, Q4_0 and MXFP4 follow ggml's reference quantizer exactly (same rounding, so the same bytes).
// The K-quants use a plain min/max quantizer (no error search): every scale is rounded up, never
// down, so a block's range always fits and the error of a value is at most half its step.
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace fare {

// Whether quantize_row can produce `t`.
bool can_quantize(DType t);

// Encodes n values (n a multiple of the type's block size) into row_bytes(t, n) bytes at dst.
// F16 and BF16 round to nearest even.
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace fare
