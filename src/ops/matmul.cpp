#include "ops/matmul.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <numeric>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "common/thread_pool.h"
#include "ops/dequant.h"
#include "ops/kernels.h"

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
  dequantize_row(w.type, w.row(r), dst, w.cols);
  if (w.type == DType::F8_E4M3) {
    FARE_CHECK(w.block_scale != nullptr);
    const float* scales = w.block_scale + (r / kFp8Block) * w.scale_cols;
    for (int64_t c = 0; c < w.cols; ++c) dst[c] *= scales[c / kFp8Block];
  }
}

namespace {

// The reference kernel: rows are decoded once per call and reused for every token, a block of
// rows staying in cache while all tokens pass over it.
constexpr int64_t kRefRowBlock = 16;

void reference_rows(const WeightMatrix& w, const Acts& a, int64_t r0, int64_t r1, float* y) {
  std::vector<float> rows(static_cast<size_t>(kRefRowBlock * w.cols));
  for (int64_t b0 = r0; b0 < r1; b0 += kRefRowBlock) {
    const int64_t b1 = std::min(r1, b0 + kRefRowBlock);
    for (int64_t r = b0; r < b1; ++r) dequantize_matrix_row(w, r, &rows[(r - b0) * w.cols]);
    for (int64_t t = 0; t < a.n_tokens; ++t) {
      const float* xt = a.x + t * w.cols;
      float* yt = y + t * w.rows;
      for (int64_t r = b0; r < b1; ++r) yt[r] = dot_f32(&rows[(r - b0) * w.cols], xt, w.cols);
    }
  }
}

// Activations quantized for one product. Per calling thread and reused, so a forward pass does
// not allocate once the buffers have grown to the largest batch.
struct ActBuffers {
  std::vector<int8_t> q, q_panels;
  std::vector<float> scale, qsum, scale_panels, qsum_panels;
  std::vector<int32_t> bias, bias_panels;
  std::vector<uint16_t> bf;
};

// One set per group of tokens a product prepares at once (its streamed tokens, a streaming call's
// worth at a time, and its tiled tokens).
ActBuffers& act_buffers(size_t slot) {
  thread_local std::deque<ActBuffers> b;  // a deque: growing it moves no buffer in use
  while (b.size() <= slot) b.emplace_back();
  return b[slot];
}

constexpr int64_t kQ8Block = 32;

// Round to nearest even for |v| < 2^22 without a libm call (the portable build has no rounding
// instruction): adding 1.5 * 2^23 leaves no fraction bits, and the default rounding mode rounds
// to even. (IEEE arithmetic, no -ffast-math: the compiler may not fold the pair.)
inline float round_even(float v) {
  constexpr float kMagic = 12582912.0f;
  return (v + kMagic) - kMagic;
}

}  // namespace

// Blocks of 32: scale = max|x| / 127, q = round(x / scale), like ggml's Q8_0 activations.
void quantize_q8_reference(const float* x, int64_t cols, int offset, int group, int8_t* q, float* scale, float* qsum,
                       int32_t* bias) {
  for (int64_t b = 0; b < cols / kQ8Block; ++b) {
    const float* xb = x + b * kQ8Block;
    float amax = 0;
    for (int64_t i = 0; i < kQ8Block; ++i) amax = std::max(amax, std::fabs(xb[i]));
    const float d = amax / 127.0f;
    const float id = amax > 0 ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (int64_t i = 0; i < kQ8Block; ++i) {
      const int v = static_cast<int>(round_even(xb[i] * id));
      q[b * kQ8Block + i] = static_cast<int8_t>(std::clamp(v, -127, 127));
      sum += q[b * kQ8Block + i];
    }
    scale[b] = d;
    qsum[b] = d * static_cast<float>(sum);
  }
  for (int64_t g = 0; g < cols / group; ++g) {
    int32_t sum = 0;
    for (int64_t i = 0; i < group; ++i) sum += q[g * group + i];
    bias[g] = -offset * sum;
  }
}

namespace {

void prepare_q8(const KernelSet& set, const TypeKernels& k, Acts& a, ThreadPool& pool, ActBuffers& buf) {
  const int64_t n = a.n_tokens, cols = a.cols;
  const auto size = [](int64_t v) { return static_cast<size_t>(v); };
  FARE_CHECK(cols % kQ8Block == 0 && cols % k.q8_group == 0, "int8 activations need whole blocks: cols ", cols);
  const int64_t nb = cols / kQ8Block, ng = cols / k.q8_group;
  buf.q.resize(size(n * cols));
  buf.scale.resize(size(n * nb));
  buf.qsum.resize(size(n * nb));
  buf.bias.resize(size(n * ng));
  const QuantizeQ8Fn quantize = set.quantize_q8 != nullptr ? set.quantize_q8 : quantize_q8_reference;
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      quantize(a.x + t * cols, cols, k.q8_offset, k.q8_group, buf.q.data() + t * cols, buf.scale.data() + t * nb,
               buf.qsum.data() + t * nb, buf.bias.data() + t * ng);
  });
  a.q = buf.q.data();
  a.scale = buf.scale.data();
  a.qsum = buf.qsum.data();
  a.bias = buf.bias.data();
}

// Places one token's 4-byte units (src; zeros when null) into the panels of ActFormat::BF16_PANELS
// or Q8_PANELS: column chunks of `chunk` units, each holding the n_blocks token blocks one after
// another, the `block` tokens of a block interleaved unit by unit; the token is slot i of block b.
void spread_token(const void* src, int64_t units, int64_t chunk, int64_t n_blocks, int64_t block, int64_t b,
                  int64_t i, uint32_t* out) {
  for (int64_t c0 = 0; c0 < units; c0 += chunk) {
    const int64_t pc = std::min(chunk, units - c0);
    uint32_t* dst = out + (c0 * n_blocks + b * pc) * block + i;
    for (int64_t u = 0; u < pc; ++u) {
      uint32_t v = 0;
      if (src != nullptr) std::memcpy(&v, static_cast<const uint8_t*>(src) + 4 * (c0 + u), 4);
      dst[u * block] = v;
    }
  }
}

// Q8_PANELS (the layout is in kernels.h): the quantized activations regrouped, by token block so
// that no two threads write one cache line.
void spread_to_panels(const TypeKernels& k, Acts& a, ThreadPool& pool, ActBuffers& buf) {
  constexpr int64_t kT = kQ8PanelTokens, kU = kQ8PanelQuads;
  const int64_t n = a.n_tokens, cols = a.cols, quads = cols / 4, nb = cols / kQ8Block, ng = cols / k.q8_group;
  const int64_t n_blocks = (n + kT - 1) / kT;
  const auto size = [](int64_t v) { return static_cast<size_t>(v); };
  buf.q_panels.resize(size(n_blocks * kT * cols));
  buf.scale_panels.resize(size(n_blocks * kT * nb));
  buf.qsum_panels.resize(size(n_blocks * kT * nb));
  buf.bias_panels.resize(size(n_blocks * kT * ng));
  auto* q = reinterpret_cast<uint32_t*>(buf.q_panels.data());
  pool.parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for (int64_t i = 0; i < kT; ++i) {
        const int64_t t = b * kT + i;
        const bool real = t < n;
        spread_token(real ? a.q + t * cols : nullptr, quads, kU, n_blocks, kT, b, i, q);
        for (int64_t j = 0; j < nb; ++j) {
          buf.scale_panels[size((b * nb + j) * kT + i)] = real ? a.scale[t * nb + j] : 0.0f;
          buf.qsum_panels[size((b * nb + j) * kT + i)] = real ? a.qsum[t * nb + j] : 0.0f;
        }
        for (int64_t g = 0; g < ng; ++g) buf.bias_panels[size((b * ng + g) * kT + i)] = real ? a.bias[t * ng + g] : 0;
      }
  });
  a.q_panels = buf.q_panels.data();
  a.scale_panels = buf.scale_panels.data();
  a.qsum_panels = buf.qsum_panels.data();
  a.bias_panels = buf.bias_panels.data();
}

void prepare_bf16(Acts& a, ThreadPool& pool, ActBuffers& buf) {
  const int64_t n = a.n_tokens, cols = a.cols;
  // Padded to an even length: the kernels read bf16 values in pairs.
  const int64_t ld = cols + (cols & 1);
  buf.bf.resize(static_cast<size_t>(n * ld));  // every value written below: no clearing first
  uint16_t* bf = buf.bf.data();
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* x = a.x + t * cols;
      uint16_t* dst = bf + t * ld;
      for (int64_t c = 0; c < cols; ++c) dst[c] = f32_to_bf16(x[c]);
      if (ld > cols) dst[cols] = 0;
    }
  });
  a.bf = bf;
}

// BF16_TILES: [token block of 16][pair][token % 16][2], pairs in whole tiles of 16.
void prepare_bf16_tiles(Acts& a, ThreadPool& pool, ActBuffers& buf) {
  const int64_t n = a.n_tokens, cols = a.cols;
  const int64_t n_blocks = (n + 15) / 16, pairs = (cols + 31) / 32 * 16;
  buf.bf.assign(static_cast<size_t>(n_blocks * pairs * 32), 0);
  pool.parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      uint16_t* dst = buf.bf.data() + (t / 16) * pairs * 32 + (t % 16) * 2;
      for (int64_t c = 0; c < cols; ++c) dst[(c / 2) * 32 + (c & 1)] = f32_to_bf16(a.x[t * cols + c]);
    }
  });
  a.bf_tiles = buf.bf.data();
}

}  // namespace

// Each token is rounded into a contiguous row first (a loop the compiler vectorizes), then its
// pairs are spread with the panel stride.
void bf16_panel_block_reference(const float* x, int64_t n, int64_t cols, int64_t b, uint32_t* out) {
  constexpr int64_t kT = kBf16PanelTokens;
  const int64_t n_blocks = (n + kT - 1) / kT, pairs = (cols + 1) / 2;
  thread_local std::vector<uint32_t> row;  // one token's pairs; kept, so that no product allocates
  row.resize(static_cast<size_t>(pairs));
  for (int64_t i = 0; i < kT; ++i) {
    const int64_t t = b * kT + i;
    if (t < n) {
      auto* bf = reinterpret_cast<uint16_t*>(row.data());
      for (int64_t c = 0; c < cols; ++c) bf[c] = f32_to_bf16(x[t * cols + c]);
      if (cols & 1) bf[cols] = 0;
    }
    spread_token(t < n ? row.data() : nullptr, pairs, kBf16PanelPairs, n_blocks, kT, b, i, out);
  }
}

namespace {

// BF16_PANELS (the layout is in kernels.h), split by token block, so that no two threads write
// one cache line.
void prepare_bf16_panels(const KernelSet& set, Acts& a, ThreadPool& pool, ActBuffers& buf) {
  constexpr int64_t kT = kBf16PanelTokens;
  const int64_t n = a.n_tokens, cols = a.cols;
  const int64_t n_blocks = (n + kT - 1) / kT, pairs = (cols + 1) / 2;
  buf.bf.resize(static_cast<size_t>(n_blocks * pairs * kT * 2));
  auto* out = reinterpret_cast<uint32_t*>(buf.bf.data());
  const Bf16PanelBlockFn fill = set.bf16_panel_block != nullptr ? set.bf16_panel_block : bf16_panel_block_reference;
  pool.parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) fill(a.x, n, cols, b, out);
  });
  a.bf_panels = buf.bf.data();
}

// Q8_K4: in the codes prepare_q8 wrote, blocks 1 and 2, 5 and 6 of every 256 columns swap
// places (the layout is in kernels.h).
void interleave_k4(const Acts& a, int8_t* q) {
  FARE_CHECK(a.cols % 256 == 0, "Q8_K4 activations need whole super-blocks: cols ", a.cols);
  for (int64_t t = 0; t < a.n_tokens; ++t)
    for (int64_t c = 0; c < a.cols; c += 128) {
      int8_t tmp[32];
      int8_t* blk = q + t * a.cols + c;
      std::memcpy(tmp, blk + 32, 32);
      std::memcpy(blk + 32, blk + 64, 32);
      std::memcpy(blk + 64, tmp, 32);
    }
}

void prepare_acts(const KernelSet& set, const TypeKernels& k, ActFormat format, Acts& a, ThreadPool& pool, size_t slot) {
  if (a.n_tokens == 0) return;
  ActBuffers& buf = act_buffers(slot);
  if (format == ActFormat::Q8 || format == ActFormat::Q8_PANELS || format == ActFormat::Q8_K4)
    prepare_q8(set, k, a, pool, buf);
  if (format == ActFormat::Q8_K4) interleave_k4(a, buf.q.data());
  if (format == ActFormat::Q8_PANELS) spread_to_panels(k, a, pool, buf);
  else if (format == ActFormat::BF16) prepare_bf16(a, pool, buf);
  else if (format == ActFormat::BF16_TILES) prepare_bf16_tiles(a, pool, buf);
  else if (format == ActFormat::BF16_PANELS) prepare_bf16_panels(set, a, pool, buf);
}

// Rows of a streaming product go to threads in (odd) multiples of this.
constexpr int64_t kGemvRowGrain = 8;

// How a product's rows go to the threads: `unit` rows per index of the parallel loop, each index
// run by the streaming kernel for the first tokens and the tiled one for the rest. Ranges start
// at multiples of the unit: the tile height of a tiled kernel, the row block of a packed layout.
struct RowSplit {
  RowsFn stream, tile;
  int64_t unit;
  int64_t stream_tokens;  // per call of `stream`
};

RowSplit split_of(const KernelSet& set, const TypeKernels& k, const WeightMatrix& w, int64_t n_stream,
                  int64_t n_tile) {
  if (k.gemv == nullptr || k.gemm == nullptr)
    fail("the ", set.name, " kernels cannot multiply ", name(w.type), " weights");
  const bool packed = w.packed != nullptr && k.packing != nullptr && w.packing == k.packing;
  const int64_t stream_unit = packed ? k.packing->row_block : kGemvRowGrain, tile_unit = k.row_align;
  const int64_t unit = n_tile == 0 ? stream_unit : n_stream == 0 ? tile_unit : std::lcm(stream_unit, tile_unit);
  return {packed ? k.gemv_packed : k.gemv, packed ? k.gemm_packed : k.gemm, unit,
          packed ? int64_t{k.gemv_packed_tokens} : kGemvMaxTokens};
}

// Rows of one product that the streaming kernel's groups of tokens take in turn while they are
// in cache.
constexpr size_t kSharedRowBytes = 256 << 10;

}  // namespace

void matmul(const Compute& cx, std::span<const Product> products, const float* x, int64_t n_tokens) {
  matmul(cx, products, x, n_tokens, n_tokens <= kGemvMaxTokens ? n_tokens : 0);
}

void matmul(const Compute& cx, std::span<const Product> products, const float* x, int64_t n_tokens,
            int64_t n_stream) {
  FARE_CHECK(cx.pool != nullptr && cx.kernels != nullptr);
  FARE_CHECK(n_stream >= 0 && n_stream <= n_tokens);
  if (products.empty()) return;
  // Fixed arrays: decode runs a few hundred products per token and allocates nothing.
  constexpr size_t kMax = 8;
  if (products.size() > kMax) {
    matmul(cx, products.first(kMax), x, n_tokens, n_stream);
    return matmul(cx, products.subspan(kMax), x, n_tokens, n_stream);
  }
  const WeightMatrix& w0 = *products[0].w;
  const auto same = [&](const Product& p) { return p.w->type == w0.type && p.w->cols == w0.cols; };
  if (!std::all_of(products.begin(), products.end(), same)) {  // one call per group that can share
    std::array<Product, kMax> group, rest;
    size_t n_group = 0, n_rest = 0;
    for (const Product& p : products) (same(p) ? group[n_group++] : rest[n_rest++]) = p;
    matmul(cx, std::span<const Product>(group.data(), n_group), x, n_tokens, n_stream);
    return matmul(cx, std::span<const Product>(rest.data(), n_rest), x, n_tokens, n_stream);
  }
  const int64_t n_tile = n_tokens - n_stream;
  const TypeKernels& k = cx.kernels->of(w0.type);
  std::array<RowSplit, kMax> splits;
  std::array<int64_t, kMax + 1> first_unit{};  // of each product, in the joint index space
  for (size_t i = 0; i < products.size(); ++i) {
    splits[i] = split_of(*cx.kernels, k, *products[i].w, n_stream, n_tile);
    first_unit[i + 1] = first_unit[i] + (products[i].w->rows + splits[i].unit - 1) / splits[i].unit;
  }
  if (n_tokens <= 0) return;
  ThreadPool& pool = *cx.pool;
  // The streaming kernels take a few tokens a call (RowSplit::stream_tokens): more go in groups.
  int64_t group = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < products.size(); ++i) group = std::min(group, splits[i].stream_tokens);
  const int64_t n_groups = (n_stream + group - 1) / group;
  thread_local std::vector<Acts> streamed_groups;
  std::vector<Acts>& streamed = streamed_groups;  // the calling thread's, named for the workers
  streamed.assign(static_cast<size_t>(n_groups), Acts{});
  for (int64_t g = 0; g < n_groups; ++g) {
    Acts& a = streamed[static_cast<size_t>(g)];
    a.n_tokens = std::min(group, n_stream - g * group);
    a.cols = w0.cols;
    a.x = x + g * group * w0.cols;
    prepare_acts(*cx.kernels, k, k.gemv_act, a, pool, static_cast<size_t>(g));
  }
  Acts tiled;
  tiled.n_tokens = n_tile;
  tiled.cols = w0.cols;
  tiled.x = x + n_stream * w0.cols;
  prepare_acts(*cx.kernels, k, k.act, tiled, pool, static_cast<size_t>(n_groups));
  // A kernel's result for a token does not depend on the other tokens it runs with, but the two
  // kernels differ in their order of additions: which one a token takes is the caller's choice.
  // One region for all products: each chunk of units runs its part of every product it covers.
  pool.parallel_for(first_unit[products.size()], 1, [&](int64_t b0, int64_t b1) {
    for (size_t i = 0; i < products.size(); ++i) {
      const int64_t lo = std::max(b0, first_unit[i]) - first_unit[i];
      const int64_t hi = std::min(b1, first_unit[i + 1]) - first_unit[i];
      if (lo >= hi) continue;
      const WeightMatrix& w = *products[i].w;
      const RowSplit& sp = splits[i];
      const int64_t r_begin = lo * sp.unit, r_end = std::min(w.rows, hi * sp.unit);
      // Several groups of streamed tokens take rows a cache-sized block at a time, so that the
      // weights come from memory once for all of them.
      const int64_t step = n_groups > 1 ? std::max<int64_t>(1, static_cast<int64_t>(kSharedRowBytes / w.row_stride) / sp.unit) * sp.unit
                                        : r_end - r_begin;
      for (int64_t r0 = r_begin; r0 < r_end && n_groups > 0; r0 += step)
        for (int64_t g = 0; g < n_groups; ++g)
          sp.stream(w, streamed[static_cast<size_t>(g)], r0, std::min(r_end, r0 + step),
                    products[i].y + g * group * w.rows);
      // The tiled kernel reuses each weight tile for all its tokens: it takes the whole range.
      if (n_tile > 0) sp.tile(w, tiled, r_begin, r_end, products[i].y + n_stream * w.rows);
    }
  });
}

void matmul(const Compute& cx, const WeightMatrix& w, const float* x, int64_t n_tokens, float* y) {
  const Product p{&w, y};
  matmul(cx, std::span<const Product>(&p, 1), x, n_tokens);
}

void matmul(const Compute& cx, const WeightMatrix& w, const float* x, int64_t n_tokens, int64_t n_stream, float* y) {
  const Product p{&w, y};
  matmul(cx, std::span<const Product>(&p, 1), x, n_tokens, n_stream);
}

void matmul_reference(const WeightMatrix& w, const float* x, int64_t n_tokens, float* y, ThreadPool& pool) {
  matmul({&pool, &reference_kernels()}, w, x, n_tokens, y);
}

const KernelSet& reference_kernels() {
  static const KernelSet set = [] {
    KernelSet s;
    s.name = "reference";
    s.summary = "plain C++: decode each row to float, then float dot products (the test oracle)";
    s.exact = true;
    for (size_t i = 0; i < kNumDTypes; ++i) {
      const DType t = static_cast<DType>(i);
      if (t == DType::U8 || t == DType::I8 || t == DType::I16 || t == DType::I32 || t == DType::I64 || t == DType::F64) continue;
      s.types[i] =
          TypeKernels{reference_rows, reference_rows, ActFormat::F32, ActFormat::F32, static_cast<int>(kRefRowBlock)};
    }
    return s;
  }();
  return set;
}

}  // namespace fare
