// Grouped-query causal attention over a KV cache.
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace fare {

struct Compute;

struct AttentionShape {
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; n_head is a multiple (query head h reads kv head h / group)
  int64_t head_dim = 0;
};

// One layer of a KV cache: the K (and V) row of position p and kv head g starts at element
// (p * n_head_kv + g) * head_dim of k (v).
struct KvRows {
  DType type = DType::F32;  // F32, F16 or BF16
  const void* k = nullptr;
  const void* v = nullptr;
};

// q: [n_tokens][n_head][head_dim]; token t sits at position pos0 + t and attends to cache
// rows 0 .. pos0 + t. out: [n_tokens][n_head][head_dim].
//
// Flash-style: keys are visited in tiles with a running maximum and sum per query row (online
// softmax), so no buffer grows with the context; the query heads that share a KV head and a
// few consecutive tokens are processed together, so each key tile is read once for all of them.
void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const KvRows& kv, float* out,
               const Compute& cx);

// One block of query rows: tokens [t0, t1) times the query heads of KV head g (row r is token
// t0 + r / group, head g * group + r % group). scratch: attention_scratch_floats(rows, head_dim).
// The kernel sets hold a vectorized version; this plain one is their oracle.
using AttendFn = void (*)(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,
                          const KvRows& kv, float* out, float* scratch);
void attend_reference(const AttentionShape& s, const float* q, int64_t t0, int64_t t1, int64_t g, int64_t pos0,
                      const KvRows& kv, float* out, float* scratch);

inline constexpr int64_t kMaxKeyTile = 64;  // keys per tile, at most (the vector kernels use their lane count)
// Floats of scratch for `rows` query rows: the reference's and the float kernels' tiles, and room
// for the bf16 kernels' rounded copies of the query rows.
constexpr int64_t attention_scratch_floats(int64_t rows, int64_t head_dim) {
  return rows * (head_dim + 3 + kMaxKeyTile) + 3 * kMaxKeyTile * head_dim + kMaxKeyTile + rows * head_dim / 2;
}

}  // namespace fare
