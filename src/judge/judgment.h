// One completion of the judge for one (item, order, sample), and the decision per (item, order)
// that the samples vote on. A judgment is what the evaluator writes as one JSON line.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/backend.h"
#include "judge/confidence.h"
#include "judge/prompt.h"
#include "judge/task.h"
#include "judge/verdict.h"

namespace fare::judge {

struct Judgment {
  std::string key;  // judgment_key(): what resuming matches on
  std::string item_id;
  Task task = Task::kPairwise;
  Order order = Order::kAsGiven;
  int sample = 0;
  std::string raw;       // the model's output (JudgeCompletion::text: reasoning in a <think> block)
  Verdict verdict;       // as parsed, in the order the model saw
  // The verdict in the item's own terms: for a swapped pair, the model's [A] is the item's B.
  bool valid = false;
  int code = 0;
  std::optional<OptionProbabilities> probs;  // in the item's own terms too
  std::string error;  // the backend refused the request (e.g. prompt too long); the verdict is invalid
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double seconds = 0;
  std::string finish_reason;
  std::optional<double> label;
  std::optional<bool> correct;  // pairwise/step/verify with a label; never for ratings
  std::string subset;
  std::string difficulty;
  std::string template_hash;
  std::string model_id;
  std::string model_family;  // the chat template's family (qwen3, harmony); empty: the backend could not tell
  GenerationSettings generation;  // seed is this sample's seed
  bool think = false;
  std::string reasoning_effort;  // gpt-oss; empty: the chat template's default

  const std::string& invalid_reason() const { return verdict.invalid_reason; }
};

std::string judgment_key(const std::string& item_id, Task task, Order order, int sample,
                         const std::string& template_hash);

nlohmann::ordered_json judgment_to_json(const Judgment& j);
// Throws fare::Error (with `where`) for a record that lacks what metrics and resuming need.
Judgment judgment_from_json(const nlohmann::json& j, const std::string& where);

// The majority vote over one (item, order)'s samples.
struct Decision {
  std::string item_id;
  Order order = Order::kAsGiven;
  bool valid = false;
  int code = 0;  // in the item's own terms
  int n_samples = 0;
  int n_valid = 0;
  int n_votes = 0;                  // votes for `code`
  bool tie_broken = false;          // several codes had the top count
  std::optional<double> soft_score; // mean over the samples that have probabilities
  std::string invalid_reason;       // the first sample's reason when no sample is valid
};

// Majority vote over valid samples; invalid samples are counted, never voted. A tie goes to the
// code with the larger summed option probability over the samples, then to the code voted first
// (lowest sample index). `samples` must all be one item and one order.
Decision decide(const std::vector<const Judgment*>& samples);

}  // namespace fare::judge
