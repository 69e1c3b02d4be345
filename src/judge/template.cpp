#include "judge/template.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace fare::judge {
namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open template file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.ends_with("\r\n"))
    text.resize(text.size() - 2);
  else if (text.ends_with('\n'))
    text.pop_back();
  return text;
}

}  // namespace

uint64_t fnv1a64(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string TaskTemplate::hash() const {
  uint64_t h = fnv1a64(system);
  h = fnv1a64(std::string_view("\0", 1), h);
  return hex64(fnv1a64(user, h));
}

std::vector<std::string_view> required_placeholders(Task task) {
  switch (task) {
    case Task::kPairwise: return {"instruction", "response_a", "response_b"};
    case Task::kVerifyRef: return {"instruction", "reference", "response"};
    case Task::kStep:
    case Task::kVerify:
    case Task::kRating: return {"instruction", "response"};
  }
  return {};
}

void validate_template(Task task, const TaskTemplate& tpl) {
  for (std::string_view name : required_placeholders(task)) {
    std::string token = cat("{", name, "}");
    if (tpl.system.find(token) == std::string::npos && tpl.user.find(token) == std::string::npos)
      fail("template for task ", task_name(task), " (", tpl.origin, ") has no ", token,
           " placeholder; it needs ", [&] {
             std::string all;
             for (std::string_view n : required_placeholders(task)) all += cat(all.empty() ? "" : ", ", "{", n, "}");
             return all;
           }());
  }
}

TaskTemplate load_template_files(Task task, const std::string& system_path, const std::string& user_path) {
  TaskTemplate tpl = builtin_template(task);
  std::string origin;
  if (!system_path.empty()) {
    tpl.system = read_text_file(system_path);
    origin = system_path;
  }
  if (!user_path.empty()) {
    tpl.user = read_text_file(user_path);
    origin += cat(origin.empty() ? "" : " + ", user_path);
  }
  if (!origin.empty()) tpl.origin = origin;
  validate_template(task, tpl);
  return tpl;
}

TaskTemplate load_template_dir(Task task, const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) fail("template folder ", dir, " does not exist or is not a folder");
  auto pick = [&](const char* part) {
    fs::path p = fs::path(dir) / cat(task_name(task), ".", part, ".txt");
    return fs::exists(p) ? p.string() : std::string();
  };
  return load_template_files(task, pick("system"), pick("user"));
}

TaskTemplate resolve_template(Task task, const std::string& dir, const std::string& system_path,
                              const std::string& user_path) {
  TaskTemplate tpl = dir.empty() ? builtin_template(task) : load_template_dir(task, dir);
  if (!system_path.empty()) {
    tpl.system = read_text_file(system_path);
    tpl.origin = tpl.origin == "built-in" ? system_path : cat(tpl.origin, " + ", system_path);
  }
  if (!user_path.empty()) {
    tpl.user = read_text_file(user_path);
    tpl.origin = tpl.origin == "built-in" ? user_path : cat(tpl.origin, " + ", user_path);
  }
  validate_template(task, tpl);
  return tpl;
}

std::string fill_placeholders(std::string_view text, const PlaceholderValues& values) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      size_t close = text.find('}', i + 1);
      if (close != std::string_view::npos) {
        std::string_view name = text.substr(i + 1, close - i - 1);
        bool replaced = false;
        for (const auto& [key, value] : values) {
          if (key == name) {
            out += value;
            replaced = true;
            break;
          }
        }
        if (replaced) {
          i = close + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

std::string tag_steps(const std::vector<std::string>& steps) {
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (i) out += '\n';
    out += cat("<step ", i, "> ", steps[i], "</step ", i, ">");
  }
  return out;
}

}  // namespace fare::judge
