// Grouped-query causal attention over a KV cache.
#pragma once

#include <cstdint>
#include <span>

#include "common/dtype.h"

namespace fare {

struct Compute;

struct AttentionShape {
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; n_head is a multiple (query head h reads kv head h / group)
  int64_t head_dim = 0;
  // gpt-oss: sinks[h] is one more logit in query head h's softmax, over no value (it only adds to
  // the denominator); a window > 0 lets a query at position p see only keys p - window + 1 .. p.
  const float* sinks = nullptr;
  int64_t window = 0;

  // The first key a query at position p sees.
  int64_t first_key(int64_t p) const { return window > 0 && p >= window ? p - window + 1 : 0; }
};

// One layer of one sequence's KV cache, stored in blocks of 2^block_shift positions: the K row of
// position p and kv head g (head_dim values of `type`) starts k_offset + g * head_bytes +
// (p % block) * row_bytes bytes into blocks[p / block], the V row v_offset bytes in. The model's
// cache (model/kv_cache.h) stores a block head by head (row_bytes = one head's row, head_bytes =
// block * row_bytes), so the keys of one head lie together: a tile of keys is a few contiguous
// runs, which the kernels may read in place, where with every head of a position side by side one
// head's keys lay a whole position apart (4 KiB with an F32 cache of 8 heads of 128). A sequence's blocks need not be adjacent
// (model/kv_cache.h shares them between sequences); a plain contiguous cache is one block.
struct KvRows {
  DType type = DType::F32;  // F32, F16 or BF16
  const uint8_t* const* blocks = nullptr;
  int64_t k_offset = 0, v_offset = 0;
  int block_shift = 0;
  int64_t row_bytes = 0;   // from one position to the next
  int64_t head_bytes = 0;  // from one head to the next

  const uint8_t* k_row(int64_t p, int64_t g) const { return row(p, k_offset + g * head_bytes); }
  const uint8_t* v_row(int64_t p, int64_t g) const { return row(p, v_offset + g * head_bytes); }

 private:
  const uint8_t* row(int64_t p, int64_t offset) const {
    const int64_t mask = (int64_t{1} << block_shift) - 1;
    return blocks[p >> block_shift] + offset + (p & mask) * row_bytes;
  }
};

// q: [n_tokens][n_head][head_dim]; token t sits at position pos0 + t and attends to cache
// rows s.first_key(pos0 + t) .. pos0 + t. out: [n_tokens][n_head][head_dim].
//
// Flash-style: keys are visited in tiles with a running maximum and sum per query row (online
// softmax), so no buffer grows with the context; the query heads that share a KV head and a
// few consecutive tokens are processed together, so each key tile is read once for all of them.
// A row's result depends only on its own query and keys, never on the rows computed beside it.
void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const KvRows& kv, float* out,
               const Compute& cx);

// The query rows of one sequence within a batch: rows [t0, t0 + n_tokens) of q and out, at
// positions pos0 .. pos0 + n_tokens - 1 of that sequence's cache.
struct AttentionSegment {
  int64_t t0 = 0, n_tokens = 0, pos0 = 0;
  KvRows kv;
};
// Every segment's attention in one parallel region (decode steps of many sequences are too small
// to fill the threads one sequence at a time).
void attention(const AttentionShape& s, const float* q, std::span<const AttentionSegment> segments, float* out,
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
