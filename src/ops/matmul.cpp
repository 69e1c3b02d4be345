#include "ops/matmul.h"

#include <algorithm>
#include <vector>

#include "common/error.h"
#include "common/thread_pool.h"
#include "ops/dequant.h"

namespace fare {

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* dst) {
  dequantize_row(w.type, w.data + static_cast<size_t>(r) * w.row_stride, dst, w.cols);
  if (w.type == DType::F8_E4M3) {
    FARE_CHECK(w.block_scale != nullptr);
    const float* scales = w.block_scale + (r / kFp8Block) * w.scale_cols;
    for (int64_t c = 0; c < w.cols; ++c) dst[c] *= scales[c / kFp8Block];
  }
}

void matmul(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  // Rows are decoded once per call and reused for every token: a block of rows stays in cache
  // while all tokens pass over it.
  constexpr int64_t kRowBlock = 16;
  const int64_t n_blocks = (w.rows + kRowBlock - 1) / kRowBlock;
  pool.parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(static_cast<size_t>(kRowBlock * w.cols));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r0 = b * kRowBlock, r1 = std::min(w.rows, r0 + kRowBlock);
      for (int64_t r = r0; r < r1; ++r) dequantize_matrix_row(w, r, &rows[(r - r0) * w.cols]);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xt = x + t * w.cols;
        float* yt = y + t * w.rows;
        for (int64_t r = r0; r < r1; ++r) yt[r] = dot_f32(&rows[(r - r0) * w.cols], xt, w.cols);
      }
    }
  });
}

}  // namespace fare
