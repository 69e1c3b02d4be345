#include "tokenizer/bpe.h"

#include <algorithm>

#include "common/error.h"

namespace fare {
namespace {

struct Symbol {
  int32_t id;
  int32_t prev;  // index of the previous live symbol, -1 at the start
  int32_t next;  // index of the next live symbol, -1 at the end
};

// A pair that could be merged, as it was when queued. It is stale once either side changed:
// merging only ever lengthens a symbol, so a pair seen again at `pos` is the same pair.
struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t left;
  int32_t right;
  int32_t result;
};

// Lowest rank first, then the leftmost pair.
bool later(const Candidate& a, const Candidate& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; }

}  // namespace

BpeModel::BpeModel(const std::array<int32_t, 256>& byte_tokens, const std::vector<MergeRule>& rules,
                   std::vector<std::pair<std::string, int32_t>> whole)
    : byte_tokens_(byte_tokens) {
  merges_.reserve(rules.size());
  for (size_t rank = 0; rank < rules.size(); ++rank) {
    const MergeRule& r = rules[rank];
    merges_.try_emplace(pair_key(r.left, r.right), Merge{static_cast<int32_t>(rank), r.result});
  }
  whole_.reserve(whole.size());
  for (auto& [bytes, id] : whole) whole_.try_emplace(std::move(bytes), id);
}

const BpeModel::Merge* BpeModel::find(int32_t left, int32_t right) const {
  auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::encode(std::string_view piece, std::vector<int32_t>& out) const {
  if (!whole_.empty()) {
    if (auto it = whole_.find(piece); it != whole_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (piece.size() == 1) {
    out.push_back(byte_tokens_[static_cast<uint8_t>(piece[0])]);
  } else if (piece.size() > 1) {
    merge_all(piece, out);
  }
}

void BpeModel::merge_all(std::string_view piece, std::vector<int32_t>& out) const {
  const auto n = static_cast<int32_t>(piece.size());
  std::vector<Symbol> syms(n);
  for (int32_t i = 0; i < n; ++i) {
    syms[i] = {byte_tokens_[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::vector<Candidate> heap;
  heap.reserve(n);
  auto push = [&](int32_t pos) {
    const Symbol& s = syms[pos];
    if (s.next < 0) return;
    const int32_t right = syms[s.next].id;
    if (const Merge* m = find(s.id, right)) {
      heap.push_back({m->rank, pos, s.id, right, m->result});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = syms[c.pos];
    if (left.id != c.left || left.next < 0 || syms[left.next].id != c.right) continue;
    Symbol& right = syms[left.next];
    left.id = c.result;
    left.next = right.next;
    if (right.next >= 0) syms[right.next].prev = c.pos;
    right.id = -1;
    if (left.prev >= 0) push(left.prev);
    push(c.pos);
  }
  for (int32_t i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace fare
