#include "judge/verdict.h"

#include <cctype>
#include <optional>

namespace fare::judge {
namespace {

constexpr std::string_view kMarkdown = "*_`";
constexpr std::string_view kBlank = " \t\r\n";

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool in(std::string_view set, char c) { return set.find(c) != std::string_view::npos; }

void skip(std::string_view s, size_t& i, std::string_view set) {
  while (i < s.size() && in(set, s[i])) ++i;
}

bool starts_with_nocase(std::string_view s, size_t i, std::string_view word) {
  if (s.size() - i < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (lower(s[i + k]) != lower(word[k])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && in(kBlank, s[b])) ++b;
  while (e > b && in(kBlank, s[e - 1])) --e;
  return s.substr(b, e - b);
}

// The end of the last "Verdict:" marker in s, tolerant of case and markdown ("**Verdict:**",
// "**Verdict**:", "VERDICT :"). npos when there is none.
size_t last_marker_end(std::string_view s) {
  constexpr std::string_view kWord = "verdict";
  size_t found = std::string_view::npos;
  for (size_t i = 0; i + kWord.size() <= s.size(); ++i) {
    if (!starts_with_nocase(s, i, kWord)) continue;
    if (i > 0 && is_alnum(s[i - 1])) continue;
    size_t j = i + kWord.size();
    skip(s, j, kMarkdown);
    skip(s, j, " \t");
    if (j < s.size() && s[j] == ':') found = j + 1;
  }
  return found;
}

// A parsed option core: the verdict code and where its first character is in the scanned text.
struct Core {
  bool ok = false;
  int code = 0;
  size_t offset = 0;
  std::string_view reason = kReasonUnrecognised;
};

std::optional<long> read_int(std::string_view s, size_t& i) {
  size_t j = i;
  bool neg = j < s.size() && s[j] == '-';
  if (neg) ++j;
  size_t digits = j;
  long v = 0;
  while (j < s.size() && is_digit(s[j]) && j - digits < 9) v = v * 10 + (s[j++] - '0');
  if (j == digits || (j < s.size() && is_digit(s[j]))) return std::nullopt;
  i = j;
  return neg ? -v : v;
}

Core parse_pairwise(std::string_view s, size_t& i) {
  for (std::string_view prefix : {"assistant ", "response ", "answer ", "output "}) {
    if (starts_with_nocase(s, i, prefix)) {
      i += prefix.size();
      skip(s, i, " \t");
      break;
    }
  }
  Core c;
  if (i >= s.size() || (s[i] != 'A' && s[i] != 'B')) return c;
  if (i + 1 < s.size() && is_alnum(s[i + 1])) return c;
  c = {true, s[i] == 'A' ? kOptionA : kOptionB, i};
  ++i;
  return c;
}

Core parse_verify(std::string_view s, size_t& i) {
  size_t j = i;
  while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
  std::string word;
  for (size_t k = i; k < j; ++k) word += lower(s[k]);
  Core c;
  if (word == "correct" || word == "yes")
    c = {true, kCorrect, i};
  else if (word == "incorrect" || word == "no")
    c = {true, kIncorrect, i};
  else
    return c;
  i = j;
  return c;
}

Core parse_step(std::string_view s, size_t& i, int n_steps) {
  bool tag = false;
  if (starts_with_nocase(s, i, "<step")) {
    tag = true;
    i += 5;
    skip(s, i, " \t");
  } else if (starts_with_nocase(s, i, "step")) {
    i += 4;
    skip(s, i, " \t#");
  }
  Core c;
  size_t start = i;
  std::optional<long> v = read_int(s, i);
  if (!v) return c;
  if (i < s.size() && s[i] == '.' && i + 1 < s.size() && is_digit(s[i + 1])) return c;
  if (tag) {
    skip(s, i, " \t");
    if (i >= s.size() || s[i] != '>') return c;
    ++i;
  }
  c.offset = start;
  if (*v < -1 || (n_steps >= 0 && *v >= n_steps)) {
    c.reason = kReasonStepOutOfRange;
    return c;
  }
  c.ok = true;
  c.code = static_cast<int>(*v);
  return c;
}

Core parse_rating(std::string_view s, size_t& i) {
  Core c;
  size_t start = i;
  std::optional<long> v = read_int(s, i);
  if (!v) return c;
  c.offset = start;
  if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
    c.reason = kReasonRatingNotInteger;
    return c;
  }
  if (*v < kMinRating || *v > kMaxRating) {
    c.reason = kReasonRatingOutOfRange;
    return c;
  }
  c.ok = true;
  c.code = static_cast<int>(*v);
  return c;
}

Core parse_core(std::string_view s, size_t& i, const VerdictContext& ctx) {
  switch (ctx.task) {
    case Task::kPairwise: return parse_pairwise(s, i);
    case Task::kVerify:
    case Task::kVerifyRef: return parse_verify(s, i);
    case Task::kStep: return parse_step(s, i, ctx.n_steps);
    case Task::kRating: return parse_rating(s, i);
  }
  return {};
}

// "7/10", "7 / 10", "7 out of 10". False when a scale is written and it is not 10.
bool read_rating_scale(std::string_view s, size_t& i) {
  size_t j = i;
  skip(s, j, " \t");
  if (j < s.size() && s[j] == '/') {
    ++j;
  } else if (starts_with_nocase(s, j, "out of")) {
    j += 6;
  } else {
    return true;
  }
  skip(s, j, " \t");
  std::optional<long> den = read_int(s, j);
  if (!den || *den != kMaxRating) return false;
  i = j;
  return true;
}

// "[A] or [B]", "2 or 3", "7-8": the tail of the verdict line names a different option.
bool names_other_option(std::string_view tail, int code, const VerdictContext& ctx) {
  for (size_t p = 0; p < tail.size(); ++p) {
    if (tail[p] != '[') continue;
    size_t j = p;
    skip(tail, j, "[*_ ");
    Core c = parse_core(tail, j, ctx);
    if (c.ok && c.code != code) return true;
  }
  size_t j = 0;
  skip(tail, j, " \t,;");
  bool connector = false;
  for (std::string_view word : {"or ", "and ", "vs ", "vs. ", "/", "-"}) {
    if (starts_with_nocase(tail, j, word)) {
      if (word == "-" && ctx.task != Task::kStep && ctx.task != Task::kRating) continue;
      j += word.size();
      connector = true;
      break;
    }
  }
  if (!connector) return false;
  skip(tail, j, " \t[(*_");
  Core c = parse_core(tail, j, ctx);
  return c.ok && c.code != code;
}

Core parse_option_line(std::string_view line, const VerdictContext& ctx) {
  size_t i = 0;
  skip(line, i, " \t*_`");
  std::string closers;
  while (i < line.size() && (line[i] == '[' || line[i] == '(') && closers.size() < 2) {
    closers.insert(closers.begin(), line[i] == '[' ? ']' : ')');
    ++i;
    skip(line, i, " \t*_`");
  }
  Core core = parse_core(line, i, ctx);
  if (!core.ok) return core;
  bool rating = ctx.task == Task::kRating;
  Core bad = core;
  bad.ok = false;
  bad.reason = kReasonRatingScale;
  if (rating && !read_rating_scale(line, i)) return bad;
  for (char closer : closers) {
    skip(line, i, " \t*_`");
    if (i >= line.size() || line[i] != closer) {
      // "[A" at the end of the output was cut off; "[A=B]" is something else altogether.
      bad.reason = i >= line.size() ? kReasonUnbalanced : kReasonUnrecognised;
      return bad;
    }
    ++i;
  }
  if (rating && !closers.empty() && !read_rating_scale(line, i)) return bad;
  skip(line, i, " \t*_`.,;:!");
  if (names_other_option(line.substr(i), core.code, ctx)) {
    bad.reason = kReasonAmbiguous;
    return bad;
  }
  return core;
}

std::string strip_explanation_label(std::string_view s) {
  s = trim(s);
  size_t i = 0;
  skip(s, i, kMarkdown);
  if (starts_with_nocase(s, i, "explanation")) {
    size_t j = i + 11;
    skip(s, j, kMarkdown);
    skip(s, j, " \t");
    if (j < s.size() && s[j] == ':') {
      ++j;
      skip(s, j, kMarkdown);
      s = trim(s.substr(j));
    }
  }
  return std::string(s);
}

Verdict invalid(Verdict v, std::string_view reason) {
  v.valid = false;
  v.invalid_reason = reason;
  v.text.clear();
  v.option_offset = std::string::npos;
  return v;
}

}  // namespace

Verdict parse_verdict(std::string_view raw, const VerdictContext& ctx) {
  Verdict v;
  size_t answer_start = 0;
  size_t first = raw.find_first_not_of(kBlank);
  if (first != std::string_view::npos && raw.substr(first).starts_with(kThinkOpen)) {
    size_t body = first + kThinkOpen.size();
    size_t close = raw.find(kThinkClose, body);
    if (close == std::string_view::npos) {
      v.reasoning = trim(raw.substr(body));
      return invalid(v, kReasonUnterminatedThink);
    }
    v.reasoning = trim(raw.substr(body, close - body));
    answer_start = close + kThinkClose.size();
  } else if (size_t close = raw.find(kThinkClose); close != std::string_view::npos) {
    // The chat template opened the think block inside the prompt; only its end is in the output.
    v.reasoning = trim(raw.substr(0, close));
    answer_start = close + kThinkClose.size();
  }
  std::string_view answer = raw.substr(answer_start);
  size_t marker = last_marker_end(answer);
  if (marker == std::string_view::npos) {
    v.explanation = strip_explanation_label(answer);
    return invalid(v, kReasonNoVerdictLine);
  }
  size_t line_start = answer.rfind('\n', marker);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  v.explanation = strip_explanation_label(answer.substr(0, line_start));

  size_t i = marker;
  skip(answer, i, " \t*_`");
  skip(answer, i, kBlank);
  size_t eol = answer.find('\n', i);
  std::string_view line = answer.substr(i, eol == std::string_view::npos ? std::string_view::npos : eol - i);
  v.verdict_line = trim(line);
  if (trim(line).empty() || line.find_first_not_of(" \t*_`") == std::string_view::npos)
    return invalid(v, kReasonEmptyVerdict);

  Core core = parse_option_line(line, ctx);
  if (!core.ok) return invalid(v, core.reason);
  v.valid = true;
  v.code = core.code;
  v.text = verdict_code_text(ctx.task, core.code);
  v.option_offset = answer_start + i + core.offset;
  return v;
}

std::string escape_reasoning(std::string_view reasoning) {
  std::string out;
  out.reserve(reasoning.size());
  for (size_t i = 0;;) {
    const size_t at = reasoning.find(kThinkClose, i);
    out += reasoning.substr(i, at == std::string_view::npos ? std::string_view::npos : at - i);
    if (at == std::string_view::npos) return out;
    out += kEscapedThinkClose;
    i = at + kThinkClose.size();
  }
}

}  // namespace fare::judge
