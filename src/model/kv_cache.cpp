#include "model/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/half.h"

namespace fare {

KvRows BlockTable::rows(const KvLayout& l, int layer) const {
  const int64_t side = static_cast<int64_t>(l.block_tokens()) * l.row_bytes();
  return {l.type,        bases_.data(),        2 * layer * side, (2 * layer + 1) * side,
          l.block_shift, l.head_row_bytes(), l.head_row_bytes() * l.block_tokens()};
}

void BlockTable::store(const KvLayout& l, int layer, int64_t pos, int64_t n, const float* k, const float* v) const {
  FARE_CHECK(pos >= 0 && ((pos + n + l.block_tokens() - 1) >> l.block_shift) <= size());
  const KvRows r = rows(l, layer);
  const int64_t hd = l.head_dim;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t g = 0; g < l.kv_dim / hd; ++g)
      for (auto [src, dst] : {std::pair{k + t * l.kv_dim + g * hd, r.k_row(pos + t, g)},
                              std::pair{v + t * l.kv_dim + g * hd, r.v_row(pos + t, g)}}) {
        auto* out = const_cast<uint8_t*>(dst);  // the table's own rows: writable, read as const by attention
        if (l.type == DType::F32) {
          std::memcpy(out, src, static_cast<size_t>(hd) * 4);
          continue;
        }
        for (int64_t i = 0; i < hd; ++i) {
          const uint16_t h = l.type == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
          std::memcpy(out + 2 * i, &h, 2);
        }
      }
}

KvPool::KvPool(const KvLayout& layout, int64_t n_blocks)
    : layout_(layout), arena_(static_cast<size_t>(n_blocks * layout.block_bytes())), meta_(static_cast<size_t>(n_blocks)) {
  if (layout.type != DType::F32 && layout.type != DType::F16 && layout.type != DType::BF16)
    fail("a KV cache holds F32, F16 or BF16 values, not ", name(layout.type));
  FARE_CHECK(n_blocks > 0 && layout.block_shift >= 0 && layout.block_shift < 20);
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int64_t i = n_blocks - 1; i >= 0; --i) free_.push_back(static_cast<int32_t>(i));
}

std::optional<int32_t> KvPool::allocate() {
  int32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    id = lru_.front();
    lru_.pop_front();
    forget(id);
  } else {
    return std::nullopt;
  }
  meta_[static_cast<size_t>(id)].refs = 1;
  ++n_in_use_;
  return id;
}

void KvPool::retain(int32_t id) {
  Meta& m = meta_[static_cast<size_t>(id)];
  if (m.refs == 0) {
    FARE_CHECK(m.registered);  // only a cached block can come back from no users
    lru_.erase(m.lru);
    ++n_in_use_;
  }
  ++m.refs;
}

void KvPool::release(int32_t id) {
  Meta& m = meta_[static_cast<size_t>(id)];
  FARE_CHECK(m.refs > 0);
  if (--m.refs > 0) return;
  --n_in_use_;
  if (m.registered) {
    m.lru = lru_.insert(lru_.end(), id);
  } else {
    free_.push_back(id);
  }
}

void KvPool::forget(int32_t id) {
  Meta& m = meta_[static_cast<size_t>(id)];
  if (m.registered) {
    const auto it = by_key_.find(m.key);
    if (it != by_key_.end() && it->second == id) by_key_.erase(it);
  }
  m.registered = false;
  m.tokens.clear();
  m.parent = -1;
}

uint64_t KvPool::chain_key(uint64_t parent_key, std::span<const int32_t> tokens) {
  // FNV-1a over the parent's key and the tokens, then a final mix (splitmix64's) so that nearby
  // inputs spread over the whole table.
  uint64_t h = 1469598103934665603ull ^ parent_key;
  auto eat = [&h](uint64_t x) {
    for (int i = 0; i < 8; ++i) {
      h ^= (x >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  eat(parent_key);
  for (int32_t t : tokens) eat(static_cast<uint32_t>(t));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return (h ^ (h >> 31)) | 1;  // never 0: 0 is "no parent"
}

int32_t KvPool::lookup(uint64_t key, int32_t parent, std::span<const int32_t> tokens) {
  const auto it = by_key_.find(key);
  if (it == by_key_.end()) return -1;
  const Meta& m = meta_[static_cast<size_t>(it->second)];
  if (m.parent != parent || !std::equal(tokens.begin(), tokens.end(), m.tokens.begin(), m.tokens.end())) return -1;
  retain(it->second);
  return it->second;
}

void KvPool::register_full(int32_t id, uint64_t key, int32_t parent, std::span<const int32_t> tokens) {
  Meta& m = meta_[static_cast<size_t>(id)];
  FARE_CHECK(m.refs > 0 && !m.registered && static_cast<int>(tokens.size()) == layout_.block_tokens());
  if (!by_key_.emplace(key, id).second) return;  // an equal block is registered already: this one stays private
  m.registered = true;
  m.key = key;
  m.parent = parent;
  m.tokens.assign(tokens.begin(), tokens.end());
}

void KvPool::unregister(int32_t id) {
  FARE_CHECK(meta_[static_cast<size_t>(id)].refs > 0);  // a cached block's rows were computed
  forget(id);
}

}  // namespace fare
