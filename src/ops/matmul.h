// Matrix products against stored weights. The plain kernel here dequantizes each weight row
// and takes float dot products: it is the oracle every faster kernel is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/dtype.h"

namespace fare {

class ThreadPool;
struct KernelSet;

struct WeightMatrix;

// A layout some kernels read faster than the stored rows, made once when a model loads. The
// pointer to the (static) object is the layout's identity: a kernel set uses `packed` only when
// the matrix was packed by the very WeightPacking it names (TypeKernels::packing).
struct WeightPacking {
  int64_t row_block = 1;  // pack() takes row ranges starting at multiples of this
  size_t (*bytes)(int64_t rows, int64_t cols) = nullptr;
  // Writes rows [r0, r1) of w (r0 a multiple of row_block; r1 too, or w.rows) at their place in
  // dst, which has bytes(w.rows, w.cols) bytes. Ranges may be packed by different threads.
  void (*pack)(const WeightMatrix& w, int64_t r0, int64_t r1, uint8_t* dst) = nullptr;
  // Worth its load time whatever runs (no workload measured slower): packed unless asked not
  // to. The others only when asked (EngineOptions::repack).
  bool by_default = false;
};

// A [rows, cols] weight matrix as stored: row r starts at data + r * row_stride.
struct WeightMatrix {
  DType type = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const uint8_t* data = nullptr;
  size_t row_stride = 0;
  // F8_E4M3 only: scale of each 128x128 block, [ceil(rows/128), ceil(cols/128)] row-major.
  const float* block_scale = nullptr;
  int64_t scale_cols = 0;
  // The same weights laid out by `packing`, when the model was loaded for kernels that read it.
  // `data` stays valid (its pages may have been returned to the page cache).
  const uint8_t* packed = nullptr;
  const WeightPacking* packing = nullptr;

  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
};

inline constexpr int64_t kFp8Block = 128;

// Decodes row r of w into dst[0..cols), with block scales applied.
void dequantize_matrix_row(const WeightMatrix& w, int64_t r, float* dst);

// What the forward pass computes with: the thread pool and the kernel set (ops/kernels.h).
// Cheap to copy; both pointers must outlive it.
struct Compute {
  ThreadPool* pool = nullptr;
  const KernelSet* kernels = nullptr;
};

// y[t * w.rows + r] = sum_c W[r, c] * x[t * w.cols + c] for t in [0, n_tokens), with the
// context's kernel set, split over its threads.
void matmul(const Compute& cx, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y);

// Several products of the same activations, y_i = W_i x (q, k and v; gate and up): the
// activations are rounded or quantized once when the matrices share a type and width, and the
// rows of all the matrices go to the threads in one parallel region.
struct Product {
  const WeightMatrix* w;
  float* y;  // [n_tokens][w->rows]
};
void matmul(const Compute& cx, std::span<const Product> products, const float* x, int64_t n_tokens);
// The same with the kernel of each token chosen by the caller: the first n_stream tokens take the
// row-streaming (decode) kernel, the rest the tiled (prefill) kernel, the weights read from memory
// once for both. Each kernel gives a token the same result whatever else it runs with, so a
// caller that picks by what a token is (a generated token streams, a prompt token is tiled)
// gets the same bits for it in any batch. The overload above picks by count (at most
// kGemvMaxTokens tokens stream).
void matmul(const Compute& cx, std::span<const Product> products, const float* x, int64_t n_tokens, int64_t n_stream);
void matmul(const Compute& cx, const WeightMatrix& w, const float* x, int64_t n_tokens, int64_t n_stream, float* y);

// The same product with the reference kernels: the oracle of the tests.
void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool);

// Plain float dot product with independent partial sums (vectorizes without -ffast-math).
float dot_f32(const float* a, const float* b, int64_t n);

}  // namespace fare
