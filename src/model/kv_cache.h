// The KV cache in blocks. A block holds K and V rows of `block_tokens` consecutive positions for
// every layer; a sequence's cache is a table of blocks (BlockTable), so sequences grow a block at
// a time under one memory budget (KvPool), and a block whose tokens - and every token before them -
// equal another sequence's is shared instead of computed again (the prefix cache).
//
// Prefix cache: a full block is keyed by a hash chained over its tokens and its predecessor's key,
// and checked on a hit against its stored tokens and predecessor block, so a hash collision can
// never hand out wrong rows. Blocks are reference-counted; one whose last user ends stays cached
// (least recently used first out) until an allocation needs its memory.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "common/dtype.h"
#include "common/page_buffer.h"
#include "ops/attention.h"

namespace fare {

// Where a position's rows live inside a block: [layer][K, V][kv head][position in block][head_dim
// values] (see KvRows).
struct KvLayout {
  int n_layer = 0;
  int kv_dim = 0;    // n_head_kv * head_dim
  int head_dim = 0;
  DType type = DType::F32;  // F32, or F16 / BF16 for half the memory (rounded once, when written)
  int block_shift = 4;      // positions per block = 2^block_shift

  int block_tokens() const { return 1 << block_shift; }
  int64_t value_bytes() const { return type == DType::F32 ? 4 : 2; }
  int64_t row_bytes() const { return static_cast<int64_t>(kv_dim) * value_bytes(); }    // every head
  int64_t head_row_bytes() const { return static_cast<int64_t>(head_dim) * value_bytes(); }  // one head
  int64_t block_bytes() const { return static_cast<int64_t>(n_layer) * 2 * block_tokens() * row_bytes(); }
  int64_t bytes_per_token() const { return static_cast<int64_t>(n_layer) * 2 * row_bytes(); }
  int64_t blocks_for(int64_t positions) const { return (positions + block_tokens() - 1) >> block_shift; }
};

// The blocks one sequence's positions live in, in order.
class BlockTable {
 public:
  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  int32_t id(int64_t i) const { return ids_[static_cast<size_t>(i)]; }
  const std::vector<int32_t>& ids() const { return ids_; }
  void push(int32_t id, uint8_t* base) {
    ids_.push_back(id);
    bases_.push_back(base);
  }
  void clear() {
    ids_.clear();
    bases_.clear();
  }

  // Layer `layer`'s rows as attention reads them.
  KvRows rows(const KvLayout& l, int layer) const;
  // Writes K and V rows (kv_dim floats each) of positions pos .. pos + n - 1 of one layer.
  void store(const KvLayout& l, int layer, int64_t pos, int64_t n, const float* k, const float* v) const;

 private:
  std::vector<int32_t> ids_;
  std::vector<uint8_t*> bases_;
};

// Every block of a memory budget, their reference counts and the prefix cache. Not thread-safe:
// one scheduler (or one Session) owns it.
class KvPool {
 public:
  // n_blocks blocks of `layout` in one mapping; pages are committed as blocks are first used.
  KvPool(const KvLayout& layout, int64_t n_blocks);

  const KvLayout& layout() const { return layout_; }
  int64_t n_blocks() const { return static_cast<int64_t>(meta_.size()); }
  int64_t n_in_use() const { return n_in_use_; }  // blocks some sequence holds
  int64_t n_cached() const { return static_cast<int64_t>(lru_.size()); }  // unused, kept for their prefix
  int64_t n_available() const { return n_blocks() - n_in_use_; }         // free or cached
  uint8_t* data(int32_t id) const { return arena_.data() + static_cast<size_t>(id) * layout_.block_bytes(); }

  // A block for one user: a free one, else the least recently used cached one (forgotten).
  std::optional<int32_t> allocate();
  void retain(int32_t id);
  // One user fewer; at none the block is cached when it holds a registered full prefix, else freed.
  void release(int32_t id);

  // The key of a full block of `tokens` after the block keyed `parent_key` (0 for the first).
  static uint64_t chain_key(uint64_t parent_key, std::span<const int32_t> tokens);
  // The cached block with this key, predecessor and tokens, retained for a new user; -1 if none.
  // Only a block whose rows are complete (or will be, by the end of the step being planned) is
  // returned: see mark_complete.
  int32_t lookup(uint64_t key, int32_t parent, std::span<const int32_t> tokens);
  // Makes block `id` (whose rows are full, or scheduled to be by the end of this step) findable.
  void register_full(int32_t id, uint64_t key, int32_t parent, std::span<const int32_t> tokens);
  // Forgets a registration whose rows were never computed (a failed step).
  void unregister(int32_t id);

  int32_t refcount(int32_t id) const { return meta_[static_cast<size_t>(id)].refs; }

 private:
  struct Meta {
    int32_t refs = 0;
    bool registered = false;
    uint64_t key = 0;
    int32_t parent = -1;
    std::vector<int32_t> tokens;
    std::list<int32_t>::iterator lru;  // valid while cached (refs == 0 and registered)
  };
  void forget(int32_t id);

  KvLayout layout_;
  PageBuffer arena_;
  std::vector<Meta> meta_;
  std::vector<int32_t> free_;                  // never used or forgotten; popped from the back
  std::list<int32_t> lru_;                     // cached blocks, least recently used first
  std::unordered_map<uint64_t, int32_t> by_key_;  // registered blocks; the first of equal keys wins
  int64_t n_in_use_ = 0;
};

}  // namespace fare
