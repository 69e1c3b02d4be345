// The five FARE evaluation tasks, and the one numeric code that both verdicts and gold labels use.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace fare::judge {

enum class Task { kPairwise, kStep, kVerify, kVerifyRef, kRating };

inline constexpr std::array<Task, 5> kAllTasks = {Task::kPairwise, Task::kStep, Task::kVerify,
                                                 Task::kVerifyRef, Task::kRating};

// Verdicts and labels share one code per task, so "correct" is a plain comparison:
//   pairwise:          0 = A, 1 = B
//   step:              index of the first wrong step, -1 = no error
//   verify/verify_ref: 1 = Correct, 0 = Incorrect
//   rating:            the rating, 1..10 (a label may be any number)
inline constexpr int kOptionA = 0;
inline constexpr int kOptionB = 1;
inline constexpr int kCorrect = 1;
inline constexpr int kIncorrect = 0;
inline constexpr int kNoError = -1;
inline constexpr int kMinRating = 1;
inline constexpr int kMaxRating = 10;

std::string_view task_name(Task task);                 // "pairwise", "step", "verify", "verify_ref", "rating"
Task parse_task(std::string_view name);                 // throws fare::Error listing the valid names
std::string task_names_joined(std::string_view sep);   // for help texts and error messages

// Canonical text of a verdict code: "A", "-1", "Correct", "7".
std::string verdict_code_text(Task task, int code);

bool is_verify(Task task);  // verify or verify_ref

}  // namespace fare::judge
