// Weights copied once at load into the layout a kernel set reads fastest (ops: WeightPacking).
// The copy is made a slab of rows at a time, and each slab's file pages are released as soon as
// it is done, so the resident set grows by the packed bytes, not by the packed and the mapped.
// When memory cannot hold both the copy and the file's pages, the copied pages also leave the
// page cache: otherwise the kernel frees room for the copy by evicting the file pages not yet
// copied, which are then read from the disk (FARE-8B BF16 on a 23 GiB machine: 12-14 s to load
// instead of about 2).
#include <algorithm>

#include "common/thread_pool.h"
#include "io/mapped_file.h"
#include "model/model.h"
#include "ops/kernels.h"

namespace fare {

namespace {

// Source bytes per parallel region: small next to the weights (the transient resident excess),
// large next to what one region costs to start.
constexpr size_t kSlabBytes = size_t{64} << 20;

void pack_matrix(WeightMatrix& w, const WeightPacking& p, ThreadPool& pool, PageBuffer& out, bool evict) {
  const int64_t slab_rows =
      std::max<int64_t>(1, static_cast<int64_t>(kSlabBytes / std::max<size_t>(w.row_stride, 1)) / p.row_block) *
      p.row_block;
  for (int64_t s0 = 0; s0 < w.rows; s0 += slab_rows) {
    const int64_t s1 = std::min(w.rows, s0 + slab_rows);
    const int64_t n_blocks = (s1 - s0 + p.row_block - 1) / p.row_block;
    pool.parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
      p.pack(w, s0 + b0 * p.row_block, std::min(s1, s0 + b1 * p.row_block), out.data());
    });
    release_mapped_pages(w.row(s0), static_cast<size_t>(s1 - s0) * w.row_stride, evict);
  }
  // The pages across slab boundaries, whole now that every slab is done.
  release_mapped_pages(w.data, static_cast<size_t>(w.rows) * w.row_stride, evict);
  w.packed = out.data();
  w.packing = &p;
}

}  // namespace

void Model::pack(const Compute& cx, bool all) {
  std::vector<WeightMatrix*> matrices;
  for (LayerWeights& l : layers) {
    for (WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down, &l.router})
      if (w->rows > 0) matrices.push_back(w);
    for (ExpertWeights& e : l.experts)
      for (WeightMatrix* w : {&e.gate, &e.up, &e.down}) matrices.push_back(w);
  }
  matrices.push_back(&output);  // a copy of tok_embd's description when tied: the embedding keeps reading rows
  const auto layout = [&](const WeightMatrix& w) -> const WeightPacking* {
    const WeightPacking* p = cx.kernels->of(w.type).packing;
    return p != nullptr && (all || p->by_default) ? p : nullptr;
  };
  size_t copy = 0, source = 0;
  for (const WeightMatrix* w : matrices)
    if (const WeightPacking* p = layout(*w)) {
      copy += p->bytes(w->rows, w->cols);
      source += static_cast<size_t>(w->rows) * w->row_stride;
    }
  const size_t avail = available_memory();
  const bool evict = avail < copy || avail - copy < source;
  for (WeightMatrix* w : matrices) {
    const WeightPacking* p = layout(*w);
    if (p == nullptr) continue;
    PageBuffer& out = packed_.emplace_back(p->bytes(w->rows, w->cols));
    pack_matrix(*w, *p, *cx.pool, out, evict);
    ++packed_matrices;
    packed_bytes += out.size();
  }
}

}  // namespace fare
