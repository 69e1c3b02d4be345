// The ids of a prompt's added tokens (special or not), in prompt order: its control structure.
// Shared by the injection tests of the tokenizer and of the judge.
#pragma once

#include <cstdint>
#include <set>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace fare::test {

inline std::vector<int32_t> control_ids(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  std::set<int32_t> added;
  for (const AddedToken& t : tok.spec().added) added.insert(t.id);
  std::vector<int32_t> out;
  for (int32_t id : ids)
    if (added.count(id)) out.push_back(id);
  return out;
}

}  // namespace fare::test
