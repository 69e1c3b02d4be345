#include "tokenizer/merge_text.h"

namespace fare {

std::optional<std::pair<std::string, std::string>> split_merge_text(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

}  // namespace fare
