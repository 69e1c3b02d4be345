// Byte-pair encoding over token ids: a pre-token starts as one token per byte and the adjacent
// pair of lowest merge rank is merged until no pair has a rank (leftmost pair first on ties),
// which is what Hugging Face's BPE model computes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fare {

struct MergeRule {
  int32_t left = 0;
  int32_t right = 0;
  int32_t result = 0;  // the token left+right
};

class BpeModel {
 public:
  BpeModel() = default;
  // byte_tokens[b]: the id of the token that is the single byte b. rules: in rank order; a
  // repeated pair keeps its first (lowest) rank. whole: (bytes, id) of the tokens a pre-token
  // becomes at once when it is exactly their bytes, merges or not (Hugging Face's ignore_merges);
  // empty when only the merges decide.
  BpeModel(const std::array<int32_t, 256>& byte_tokens, const std::vector<MergeRule>& rules,
           std::vector<std::pair<std::string, int32_t>> whole = {});

  // Appends the ids of `piece` (raw bytes) to `out`. Thread-safe.
  void encode(std::string_view piece, std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  const Merge* find(int32_t left, int32_t right) const;
  void merge_all(std::string_view piece, std::vector<int32_t>& out) const;

  // Lets whole_ be searched with a string_view.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::array<int32_t, 256> byte_tokens_{};
  std::unordered_map<uint64_t, Merge> merges_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> whole_;
};

}  // namespace fare
