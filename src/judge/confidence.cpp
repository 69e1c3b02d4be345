#include "judge/confidence.h"

#include <cctype>
#include <cmath>
#include <map>

#include "common/error.h"

namespace fare::judge {
namespace {

constexpr int kMaxUnknownSteps = 100;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Spellings that count for an option at the verdict position (the parser accepts Yes/No too).
std::vector<std::pair<int, std::string>> option_spellings(Task task, int n_steps) {
  auto out = verdict_options(task, n_steps);
  if (is_verify(task)) {
    out.push_back({kCorrect, "Yes"});
    out.push_back({kIncorrect, "No"});
  }
  return out;
}

// Which option an alternative token continues, or nullopt when none or several.
std::optional<int> match_option(const std::string& piece, const std::vector<std::pair<int, std::string>>& spellings,
                                bool nocase) {
  std::string p = nocase ? lower(piece) : piece;
  if (p.empty()) return std::nullopt;
  std::optional<int> exact, prefix;
  bool prefix_ambiguous = false;
  for (const auto& [code, spelling] : spellings) {
    std::string s = nocase ? lower(spelling) : spelling;
    bool token_holds_option = p.starts_with(s) && (p.size() == s.size() || !std::isalnum(static_cast<unsigned char>(p[s.size()])));
    if (p == s || token_holds_option) {
      if (exact && *exact != code) return std::nullopt;
      exact = code;
    } else if (s.starts_with(p)) {
      if (prefix && *prefix != code) prefix_ambiguous = true;
      prefix = code;
    }
  }
  if (exact) return exact;
  if (prefix && !prefix_ambiguous) return prefix;
  return std::nullopt;
}

}  // namespace

std::vector<std::pair<int, std::string>> verdict_options(Task task, int n_steps) {
  std::vector<std::pair<int, std::string>> out;
  switch (task) {
    case Task::kPairwise: return {{kOptionA, "A"}, {kOptionB, "B"}};
    case Task::kVerify:
    case Task::kVerifyRef: return {{kCorrect, "Correct"}, {kIncorrect, "Incorrect"}};
    case Task::kStep: {
      int n = n_steps >= 0 ? n_steps : kMaxUnknownSteps;
      for (int k = -1; k < n; ++k) out.push_back({k, std::to_string(k)});
      return out;
    }
    case Task::kRating:
      for (int r = kMinRating; r <= kMaxRating; ++r) out.push_back({r, std::to_string(r)});
      return out;
  }
  return out;
}

std::optional<OptionProbabilities> option_probabilities(const std::vector<TokenStep>& steps, const std::string& text,
                                                        size_t option_offset, Task task, int n_steps) {
  if (steps.empty() || option_offset >= text.size()) return std::nullopt;
  size_t pos = 0;
  const TokenStep* at = nullptr;
  size_t token_start = 0;
  for (const TokenStep& s : steps) {
    if (text.compare(pos, s.text.size(), s.text) != 0) return std::nullopt;
    if (!at && option_offset < pos + s.text.size()) {
      at = &s;
      token_start = pos;
    }
    pos += s.text.size();
  }
  if (!at) return std::nullopt;
  const std::string before = at->text.substr(0, option_offset - token_start);
  const auto spellings = option_spellings(task, n_steps);
  const bool nocase = is_verify(task);

  std::vector<TokenAlternative> alts = at->top;
  bool sampled_listed = false;
  for (const auto& a : alts) sampled_listed |= a.text == at->text;
  if (!sampled_listed) alts.push_back({at->text, at->logprob});

  std::map<int, double> mass_by_code;
  double mass = 0;
  for (const TokenAlternative& a : alts) {
    if (!a.text.starts_with(before)) continue;
    std::optional<int> code = match_option(a.text.substr(before.size()), spellings, nocase);
    if (!code) continue;
    double p = std::exp(a.logprob);
    mass_by_code[*code] += p;
    mass += p;
  }
  if (mass <= 0) return std::nullopt;

  OptionProbabilities out;
  out.mass = mass;
  for (const auto& [code, name] : verdict_options(task, n_steps)) {
    double p = mass_by_code.count(code) ? mass_by_code[code] / mass : 0.0;
    out.options.push_back(name);
    out.probs.push_back(p);
    switch (task) {
      case Task::kPairwise: if (code == kOptionA) out.soft_score = p; break;
      case Task::kVerify:
      case Task::kVerifyRef: if (code == kCorrect) out.soft_score = p; break;
      case Task::kStep: if (code == kNoError) out.soft_score = p; break;
      case Task::kRating: out.soft_score += p * code; break;
    }
  }
  return out;
}

OptionProbabilities swap_pairwise(const OptionProbabilities& p) {
  FARE_CHECK(p.probs.size() == 2, "pairwise probabilities have ", p.probs.size(), " options");
  OptionProbabilities out = p;
  out.probs = {p.probs[1], p.probs[0]};
  out.soft_score = out.probs[0];
  return out;
}

}  // namespace fare::judge
