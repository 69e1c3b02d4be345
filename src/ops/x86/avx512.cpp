// AVX-512 (F, BW, VL, DQ) float-activation kernels: float_kernels.h over 16-lane vectors, with a
// 32-row x 12-token register tile (24 accumulators of the 32 registers).
#include <immintrin.h>

#include "ops/x86/attention_kernels.h"
#include "ops/x86/avx512_common.h"
#include "ops/x86/avx512_vec.h"
#include "ops/x86/float_kernels.h"
#include "ops/x86/kernels_x86.h"
#include "ops/x86/swiglu_kernels.h"

namespace fare::avx512 {

FARE_FLOAT_KERNEL_ENTRY_POINTS(V512)

}  // namespace fare::avx512
