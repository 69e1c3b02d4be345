// Grouped-query causal attention over a KV cache.
#pragma once

#include <cstdint>

namespace fare {

class ThreadPool;

struct AttentionShape {
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads; n_head is a multiple (query head h reads kv head h / group)
  int64_t head_dim = 0;
};

// q: [n_tokens][n_head][head_dim]; token t sits at position pos0 + t and attends to cache
// rows 0 .. pos0 + t. k_cache, v_cache: [n_ctx][n_head_kv][head_dim], rows up to
// pos0 + n_tokens - 1 filled. out: [n_tokens][n_head][head_dim].
void attention(const AttentionShape& s, const float* q, int64_t n_tokens, int64_t pos0, const float* k_cache,
               const float* v_cache, float* out, ThreadPool& pool);

}  // namespace fare
