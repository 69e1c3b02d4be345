#include "judge/task.h"

#include "common/error.h"

namespace fare::judge {

std::string_view task_name(Task task) {
  switch (task) {
    case Task::kPairwise: return "pairwise";
    case Task::kStep: return "step";
    case Task::kVerify: return "verify";
    case Task::kVerifyRef: return "verify_ref";
    case Task::kRating: return "rating";
  }
  FARE_CHECK(false, "unknown task ", static_cast<int>(task));
  return {};
}

std::string task_names_joined(std::string_view sep) {
  std::string out;
  for (Task t : kAllTasks) {
    if (!out.empty()) out += sep;
    out += task_name(t);
  }
  return out;
}

Task parse_task(std::string_view name) {
  for (Task t : kAllTasks)
    if (task_name(t) == name) return t;
  fail("unknown task '", name, "', expected one of: ", task_names_joined(", "));
}

std::string verdict_code_text(Task task, int code) {
  switch (task) {
    case Task::kPairwise: return code == kOptionA ? "A" : "B";
    case Task::kVerify:
    case Task::kVerifyRef: return code == kCorrect ? "Correct" : "Incorrect";
    case Task::kStep:
    case Task::kRating: return std::to_string(code);
  }
  return {};
}

bool is_verify(Task task) { return task == Task::kVerify || task == Task::kVerifyRef; }

}  // namespace fare::judge
