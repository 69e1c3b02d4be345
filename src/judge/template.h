// Task templates: a system and a user prompt with {placeholders}, filled literally.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "judge/task.h"

namespace fare::judge {

struct TaskTemplate {
  std::string system;
  std::string user;
  std::string origin;  // "built-in", or the files it was read from

  // 16 hex digits of FNV-1a 64 over system, a 0 byte, and user; recorded with every judgment so
  // that results from different wordings are never mixed.
  std::string hash() const;
};

// The defaults, equal to ../shared/fare/templates byte for byte.
const TaskTemplate& builtin_template(Task task);

// Placeholders each task's template must contain (in the system or the user text).
std::vector<std::string_view> required_placeholders(Task task);

// Throws fare::Error naming the template's origin and the missing placeholder.
void validate_template(Task task, const TaskTemplate& tpl);

// Reads <dir>/<task>.system.txt and <dir>/<task>.user.txt; a file that is absent keeps the built-in
// text for that half. One trailing newline is dropped from each file, since editors add one.
TaskTemplate load_template_dir(Task task, const std::string& dir);

// Explicit files; an empty path keeps the built-in half.
TaskTemplate load_template_files(Task task, const std::string& system_path, const std::string& user_path);

// What the command line asks for: the built-in template, or a folder's files, or explicit files
// on top of either (empty strings: not given).
TaskTemplate resolve_template(Task task, const std::string& dir, const std::string& system_path,
                              const std::string& user_path);

using PlaceholderValues = std::vector<std::pair<std::string_view, std::string_view>>;

// One left-to-right pass: "{name}" with a name in `values` becomes its value; every other brace is
// copied unchanged, and inserted text is never scanned again (user text may contain "{response}").
std::string fill_placeholders(std::string_view text, const PlaceholderValues& values);

// "<step 0> first</step 0>\n<step 1> second</step 1>": the tagging FARE was trained on.
std::string tag_steps(const std::vector<std::string>& steps);

uint64_t fnv1a64(std::string_view data, uint64_t h = 0xcbf29ce484222325ull);
std::string hex64(uint64_t v);

}  // namespace fare::judge
