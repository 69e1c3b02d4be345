// What one forward pass computes: a few tokens of each of several sequences (the next token of
// every decoding sequence, a chunk of a prompt), run as one batch so that every weight is read
// once per pass for all of them.
//
// Which matrix kernel a token takes is part of the batch: generated tokens stream (the decode
// kernels), prompt tokens are tiled (the prefill kernels). Each kernel gives a token the same
// result whatever else it runs with, so a token computed in any batch equals the same token
// computed alone (ops/matmul.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/error.h"
#include "model/kv_cache.h"

namespace fare {

struct ForwardBatch {
  // Consecutive tokens of one sequence.
  struct Piece {
    int64_t t0 = 0, n_tokens = 0;  // tokens[t0, t0 + n_tokens)
    int64_t pos0 = 0;              // ... at positions pos0, pos0 + 1, ... of its cache
    const BlockTable* kv = nullptr;  // holds blocks for every position up to pos0 + n_tokens
  };
  std::vector<int32_t> tokens;
  std::vector<Piece> pieces;
  int64_t n_stream = 0;           // the first n_stream tokens take the streaming kernels
  std::vector<int64_t> out_rows;  // logits row i is for tokens[out_rows[i]]
  int64_t n_out_stream = 0;       // the first n_out_stream logits rows take the streaming kernels

  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
  void clear() {
    tokens.clear();
    pieces.clear();
    out_rows.clear();
    n_stream = n_out_stream = 0;
  }

  enum class Logits { kNone, kLast, kAll };
  // Appends a piece (streaming ones before any tiled one); returns the logits row of its first
  // wanted token, or -1.
  int64_t add(std::span<const int32_t> toks, int64_t pos0, const BlockTable& kv, bool stream, Logits logits) {
    FARE_CHECK(!stream || n_stream == n_tokens(), "streamed tokens come first in a batch");
    const int64_t t0 = n_tokens(), n = static_cast<int64_t>(toks.size()), row = static_cast<int64_t>(out_rows.size());
    tokens.insert(tokens.end(), toks.begin(), toks.end());
    pieces.push_back({t0, n, pos0, &kv});
    if (logits == Logits::kLast && n > 0) out_rows.push_back(t0 + n - 1);
    if (logits == Logits::kAll)
      for (int64_t i = 0; i < n; ++i) out_rows.push_back(t0 + i);
    if (stream) {
      n_stream += n;
      n_out_stream = static_cast<int64_t>(out_rows.size());
    }
    return static_cast<int64_t>(out_rows.size()) > row ? row : -1;
  }
};

}  // namespace fare
