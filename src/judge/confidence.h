// Verdict confidence from log-probabilities: the probability mass the model put on each verdict
// option at the position where it wrote the option ("A" in "Verdict: [A]"), renormalised over the
// options, and one soft score derived from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "judge/backend.h"
#include "judge/task.h"

namespace fare::judge {

struct OptionProbabilities {
  std::vector<std::string> options;  // canonical option texts, as verdict_code_text writes them
  std::vector<double> probs;         // same order; sums to 1
  // Probability mass (before renormalising) the top alternatives put on recognised options. Low
  // values mean the model was also considering something else entirely at that position.
  double mass = 0;
  // pairwise: P(A); verify: P(Correct); step: P(no error, -1); rating: expected rating.
  double soft_score = 0;
};

// Options each task's verdict can take. `n_steps` bounds the step options (-1: 0..99).
std::vector<std::pair<int, std::string>> verdict_options(Task task, int n_steps);

// nullopt when the steps do not cover `option_offset` (the backend gave none, or their texts do
// not concatenate to `text`) or when no alternative at that step names an option. An alternative
// names an option when its text, after the part of the token that precedes the option, equals an
// option or is a prefix of exactly one. Options of several characters tokenised digit by digit
// ("10", "12") are thus credited to their first digit's option: an approximation, documented.
std::optional<OptionProbabilities> option_probabilities(const std::vector<TokenStep>& steps,
                                                        const std::string& text, size_t option_offset,
                                                        Task task, int n_steps);

// Pairwise probabilities of the swapped order, expressed for the original A and B.
OptionProbabilities swap_pairwise(const OptionProbabilities& p);

}  // namespace fare::judge
