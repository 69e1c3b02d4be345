// Merges stored as one string ("Ġ t"), as in GGUF files and older tokenizer.json files.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace fare {

// Splits "a b" into its two tokens. Byte-level tokens never hold a space (it is written 'Ġ'),
// so the text must contain exactly one; `where` names the entry in the error message.
std::pair<std::string, std::string> split_merge_text(std::string_view line, std::string_view where);

}  // namespace fare
