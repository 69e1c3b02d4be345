// Merges stored as one string ("Ġ t"), as in GGUF files and older tokenizer.json files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace fare {

// Splits "a b" into its two tokens, or nullopt when the text is not two non-empty tokens
// separated by exactly one space (byte-level tokens write a space as 'Ġ', so there is no
// ambiguity).
std::optional<std::pair<std::string, std::string>> split_merge_text(std::string_view line);

inline constexpr std::string_view kMergeTextExpected = "expected a merge as two tokens separated by one space";

}  // namespace fare
