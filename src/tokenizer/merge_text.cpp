#include "tokenizer/merge_text.h"

#include "common/error.h"

namespace fare {

std::pair<std::string, std::string> split_merge_text(std::string_view line, std::string_view where) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string_view::npos) {
    fail(where, ": expected a merge as two tokens separated by one space, got '", line, "'");
  }
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

}  // namespace fare
