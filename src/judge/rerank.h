// Best-of-N with the judge: rank N candidate answers to one question, either pointwise (each
// judged on its own with verify, verify_ref or rating) or by a pairwise knockout tournament.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/backend.h"
#include "judge/judgment.h"
#include "judge/settings.h"

namespace fare::judge {

enum class RerankMethod { kPointwise, kKnockout };

std::string_view rerank_method_name(RerankMethod m);
RerankMethod parse_rerank_method(std::string_view name);  // "pointwise", "knockout"

struct RerankInput {
  std::string id = "rerank";  // prefix of the judgments' item ids
  std::string instruction;
  std::vector<std::string> candidates;
  std::optional<std::string> reference;      // verify_ref pointwise scoring
  std::vector<std::optional<bool>> correct;  // optional gold labels, one per candidate
};

// {instruction, candidates: ["..."] or [{"response": "...", "correct"?: bool}], reference?, id?}
RerankInput rerank_input_from_json(const nlohmann::json& j, const std::string& where);

struct Match {
  int round = 0;
  int a = 0, b = 0;  // candidate indices; a is shown first in the as-given order
  int winner = 0;
  bool decided_by_tiebreak = false;  // the orders disagreed or were invalid
  std::vector<Decision> decisions;
};

struct RerankResult {
  RerankMethod method = RerankMethod::kPointwise;
  std::vector<int> ranking;                  // candidate indices, best first
  std::vector<std::optional<double>> scores; // pointwise: per candidate; nullopt when every sample was invalid
  std::vector<Match> matches;                // knockout only
  std::vector<Judgment> judgments;
  std::optional<bool> best_correct;          // the label of ranking[0], when labels were given
};

// Pointwise: config.task is verify, verify_ref or rating. The score is the mean over valid samples
// of P(Correct) (or the expected rating / 10) when the backend gives probabilities, else of the
// verdict itself (1 Correct, 0 Incorrect, rating / 10). Higher first; equal scores keep input order,
// candidates with no valid verdict go last.
// Knockout: config.task is pairwise. Neighbours meet in rounds (an odd one out gets a bye); each match
// uses both orders when config.swap. The winner has more votes over orders and samples; a draw goes to
// the higher mean P(A as given), and without probabilities to the earlier candidate. The ranking is the
// champion, then the losers of each round from the last round back, each round in input order.
// `parallel`: judgments in flight at once (every candidate of pointwise, every match of a round).
// `cancel` (may be null): set to give up; RequestCancelled is thrown.
RerankResult rerank(JudgeBackend& backend, const JudgeConfig& config, const RerankInput& input, RerankMethod method,
                    int parallel = 1, const std::atomic<bool>* cancel = nullptr);

nlohmann::ordered_json rerank_to_json(const RerankResult& r, const RerankInput& input);

}  // namespace fare::judge
