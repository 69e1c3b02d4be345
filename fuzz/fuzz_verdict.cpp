// The verdict parser (judge/verdict.h) on arbitrary judge output. Byte 0 picks the task, byte 1
// the number of steps shown (step task: -1 = unknown, else 0..32); the rest is the raw output.
// Checked: a valid verdict's code is in its task's range, its text is the code's canonical text,
// and option_offset points into the raw output at the option as written; an invalid one has a
// known reason and neither text nor offset. Parsing is a pure function: twice gives the same.
#include <array>
#include <cctype>

#include "fuzz_util.h"
#include "judge/verdict.h"

namespace {

using namespace fare::judge;

constexpr std::array<std::string_view, 10> kReasons = {
    kReasonUnterminatedThink, kReasonNoVerdictLine, kReasonEmptyVerdict,      kReasonUnrecognised,
    kReasonUnbalanced,        kReasonAmbiguous,     kReasonStepOutOfRange,    kReasonRatingOutOfRange,
    kReasonRatingNotInteger,  kReasonRatingScale};

bool starts_with_nocase(std::string_view s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[k])) != word[k]) return false;
  return true;
}

// The integer written at the start of s (optional '-', then digits), if any.
bool leading_int(std::string_view s, long& out) {
  size_t i = 0;
  const bool neg = !s.empty() && s[0] == '-';
  if (neg) i = 1;
  const size_t digits = i;
  long v = 0;
  while (i < s.size() && i - digits < 12 && std::isdigit(static_cast<unsigned char>(s[i]))) v = v * 10 + (s[i++] - '0');
  if (i == digits) return false;
  out = neg ? -v : v;
  return true;
}

void check_valid(const Verdict& v, std::string_view raw, const VerdictContext& ctx) {
  FUZZ_CHECK(v.invalid_reason.empty(), v.invalid_reason);
  FUZZ_CHECK(v.text == verdict_code_text(ctx.task, v.code), v.text, " for code ", v.code);
  FUZZ_CHECK(v.option_offset < raw.size(), "option_offset ", v.option_offset, " of ", raw.size(), " bytes");
  const std::string_view at = raw.substr(v.option_offset);
  switch (ctx.task) {
    case Task::kPairwise:
      FUZZ_CHECK(v.code == kOptionA || v.code == kOptionB, v.code);
      FUZZ_CHECK(at[0] == (v.code == kOptionA ? 'A' : 'B'), "offset points at '", at[0], "'");
      break;
    case Task::kVerify:
    case Task::kVerifyRef:
      FUZZ_CHECK(v.code == kCorrect || v.code == kIncorrect, v.code);
      FUZZ_CHECK(v.code == kCorrect ? starts_with_nocase(at, "correct") || starts_with_nocase(at, "yes")
                                    : starts_with_nocase(at, "incorrect") || starts_with_nocase(at, "no"),
                 "offset points at '", at.substr(0, 12), "'");
      break;
    case Task::kStep:
    case Task::kRating: {
      if (ctx.task == Task::kStep) {
        FUZZ_CHECK(v.code >= kNoError && (ctx.n_steps < 0 || v.code < ctx.n_steps), v.code, " of ", ctx.n_steps, " steps");
      } else {
        FUZZ_CHECK(v.code >= kMinRating && v.code <= kMaxRating, v.code);
      }
      long written = 0;
      FUZZ_CHECK(leading_int(at, written) && written == v.code, "offset points at '", at.substr(0, 12), "'");
      break;
    }
  }
}

void check_invalid(const Verdict& v) {
  bool known = false;
  for (std::string_view r : kReasons) known |= v.invalid_reason == r;
  FUZZ_CHECK(known, "unknown invalid reason '", v.invalid_reason, "'");
  FUZZ_CHECK(v.text.empty(), v.text);
  FUZZ_CHECK(v.option_offset == std::string::npos, v.option_offset);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  VerdictContext ctx;
  ctx.task = kAllTasks[data[0] % kAllTasks.size()];
  ctx.n_steps = data[1] % 34 - 1;
  const std::string_view raw = fare::fuzz::as_text(data + 2, size - 2);
  Verdict v;
  fare::fuzz::expect_no_exception([&] { v = parse_verdict(raw, ctx); });
  if (v.valid) check_valid(v, raw, ctx);
  else check_invalid(v);
  const Verdict again = parse_verdict(raw, ctx);
  FUZZ_CHECK(again.valid == v.valid && again.code == v.code && again.text == v.text &&
             again.invalid_reason == v.invalid_reason && again.option_offset == v.option_offset &&
             again.verdict_line == v.verdict_line && again.reasoning == v.reasoning && again.explanation == v.explanation);
  return 0;
}
