// Reading a verdict out of a judge's output (../shared/fare/README.md, "Reading the verdict").
// A leading <think> block is kept as reasoning and never parsed; the verdict is whatever follows
// the last "Verdict:". Anything that is not one of the accepted forms is an explicit invalid
// verdict with a reason: never a tie, never a default answer.
#pragma once

#include <string>
#include <string_view>

#include "judge/task.h"

namespace fare::judge {

// Why a verdict is invalid. Short and fixed, so that summaries can count them.
inline constexpr std::string_view kReasonUnterminatedThink = "unterminated think block";
inline constexpr std::string_view kReasonNoVerdictLine = "no verdict line";
inline constexpr std::string_view kReasonEmptyVerdict = "empty verdict";
inline constexpr std::string_view kReasonUnrecognised = "unrecognised verdict";
inline constexpr std::string_view kReasonUnbalanced = "unbalanced brackets";
inline constexpr std::string_view kReasonAmbiguous = "more than one option";
inline constexpr std::string_view kReasonStepOutOfRange = "step out of range";
inline constexpr std::string_view kReasonRatingOutOfRange = "rating out of range";
inline constexpr std::string_view kReasonRatingNotInteger = "rating not an integer";
inline constexpr std::string_view kReasonRatingScale = "rating scale not 10";
// Not a parse result: the backend refused the request (see Judgment::error).
inline constexpr std::string_view kReasonBackendError = "backend error";

struct VerdictContext {
  Task task = Task::kPairwise;
  int n_steps = -1;  // step task: the number of steps shown to the model; -1: unknown (no range check)
};

struct Verdict {
  bool valid = false;
  int code = 0;                // task.h's code; meaningful only when valid
  std::string text;            // canonical verdict ("A", "-1", "Correct", "7"); empty when invalid
  std::string invalid_reason;  // one of the kReason* constants; empty when valid
  std::string verdict_line;    // what followed the last "Verdict:" on its line, as written
  std::string reasoning;       // the <think> block's content, tags removed
  std::string explanation;     // the answer before the verdict line, "Explanation:" removed
  // Byte offset in the raw output of the option's first character ("A" of "[A]", "-" of "-1"):
  // where verdict confidence is read from the log-probabilities. npos when invalid.
  size_t option_offset = std::string::npos;
};

Verdict parse_verdict(std::string_view raw, const VerdictContext& ctx);

// Reasoning that a backend gets apart from the answer (a server's reasoning field, gpt-oss's
// analysis channel) is put before it as "<think>" + reasoning + "</think>". The block ends at the
// first "</think>", so one inside the reasoning (a quoted answer under judgment, say) would end it
// early and let the rest of the reasoning be read as the answer: there it is written
// kEscapedThinkClose instead. No other byte changes.
inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";
inline constexpr std::string_view kEscapedThinkClose = "<\\/think>";
std::string escape_reasoning(std::string_view reasoning);

}  // namespace fare::judge
