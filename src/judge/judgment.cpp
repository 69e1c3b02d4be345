#include "judge/judgment.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "judge/item.h"
#include "judge/json_fields.h"
#include "judge/settings.h"

namespace fare::judge {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string judgment_key(const std::string& item_id, Task task, Order order, int sample,
                         const std::string& template_hash) {
  std::string_view o = task == Task::kPairwise ? order_name(order) : "-";
  return cat(item_id, "|", o, "|", sample, "|", template_hash);
}

namespace {

ojson probs_to_json(const OptionProbabilities& p) {
  ojson probs = ojson::object();
  for (size_t i = 0; i < p.options.size(); ++i)
    if (p.probs[i] > 0) probs[p.options[i]] = p.probs[i];
  return {{"probs", probs}, {"mass", p.mass}, {"soft_score", p.soft_score}};
}

OptionProbabilities probs_from_json(const json& j, Task task, const std::string& where) {
  OptionProbabilities p;
  require_object(j, where);
  const json& probs = require_field(j, "probs", where);
  for (const auto& [code, name] : verdict_options(task, -1)) {
    p.options.push_back(name);
    p.probs.push_back(probs.is_object() && probs.contains(name) ? probs.at(name).get<double>() : 0.0);
  }
  p.mass = number_field(j, "mass", where);
  p.soft_score = number_field(j, "soft_score", where);
  return p;
}


}  // namespace

ojson judgment_to_json(const Judgment& j) {
  ojson out = {{"key", j.key},
              {"item_id", j.item_id},
              {"task", task_name(j.task)},
              {"order", j.task == Task::kPairwise ? ojson(order_name(j.order)) : ojson(nullptr)},
              {"sample", j.sample},
              {"valid", j.valid},
              {"verdict", j.valid ? ojson(verdict_code_text(j.task, j.code)) : ojson(nullptr)},
              {"verdict_as_shown", j.verdict.valid ? ojson(j.verdict.text) : ojson(nullptr)},
              {"invalid_reason", j.valid ? ojson(nullptr) : ojson(j.verdict.invalid_reason)},
              {"verdict_line", j.verdict.verdict_line},
              {"label", j.label ? ojson(label_to_json(j.task, *j.label)) : ojson(nullptr)},
              {"correct", j.correct ? ojson(*j.correct) : ojson(nullptr)},
              {"confidence", j.probs ? probs_to_json(*j.probs) : ojson(nullptr)},
              {"raw", j.raw},
              {"reasoning", j.verdict.reasoning},
              {"error", j.error.empty() ? ojson(nullptr) : ojson(j.error)},
              {"prompt_tokens", j.prompt_tokens},
              {"completion_tokens", j.completion_tokens},
              {"seconds", j.seconds},
              {"finish_reason", j.finish_reason},
              {"subset", j.subset},
              {"difficulty", j.difficulty},
              {"template_hash", j.template_hash},
              {"model_id", j.model_id},
              {"model_family", j.model_family.empty() ? ojson(nullptr) : ojson(j.model_family)},
              {"think", j.think},
              {"reasoning_effort", j.reasoning_effort.empty() ? ojson(nullptr) : ojson(j.reasoning_effort)},
              {"generation", generation_to_json(j.generation)}};
  return out;
}

Judgment judgment_from_json(const json& r, const std::string& where) {
  require_object(r, where);
  Judgment j;
  j.key = string_field(r, "key", where);
  j.item_id = string_field(r, "item_id", where);
  j.task = parse_task(string_field(r, "task", where));
  if (j.task == Task::kPairwise) j.order = parse_order(string_field(r, "order", where));
  j.sample = static_cast<int>(int_field(r, "sample", where));
  j.valid = bool_field(r, "valid", where);
  j.raw = string_field(r, "raw", where);
  j.verdict.reasoning = optional_string_field(r, "reasoning", where).value_or("");
  j.verdict.verdict_line = optional_string_field(r, "verdict_line", where).value_or("");
  if (j.valid) {
    // The item's own terms are what metrics need; re-derive the code from its text.
    std::string text = string_field(r, "verdict", where);
    bool found = false;
    if (j.task == Task::kStep || j.task == Task::kRating) {
      j.code = static_cast<int>(int_value(r.at("verdict"), "verdict", where));
      found = true;
    }
    for (const auto& [code, name] : verdict_options(j.task, 0)) {
      if (name == text) {
        j.code = code;
        found = true;
      }
    }
    if (!found) fail_field(where, "verdict", r.at("verdict"), cat("a ", task_name(j.task), " verdict"));
  } else {
    j.verdict.invalid_reason = string_field(r, "invalid_reason", where);
  }
  if (has_field(r, "confidence")) j.probs = probs_from_json(r.at("confidence"), j.task, where);
  j.error = optional_string_field(r, "error", where).value_or("");
  j.prompt_tokens = static_cast<int>(int_field(r, "prompt_tokens", where));
  j.completion_tokens = static_cast<int>(int_field(r, "completion_tokens", where));
  j.seconds = number_field(r, "seconds", where);
  j.finish_reason = string_field(r, "finish_reason", where);
  j.subset = optional_string_field(r, "subset", where).value_or("");
  j.difficulty = optional_string_field(r, "difficulty", where).value_or("");
  j.template_hash = string_field(r, "template_hash", where);
  j.model_id = string_field(r, "model_id", where);
  j.model_family = optional_string_field(r, "model_family", where).value_or("");
  j.think = has_field(r, "think") && bool_field(r, "think", where);
  j.reasoning_effort = optional_string_field(r, "reasoning_effort", where).value_or("");
  if (has_field(r, "label")) j.label = label_from_json(j.task, r.at("label"), where);
  if (has_field(r, "correct")) j.correct = bool_field(r, "correct", where);
  if (has_field(r, "generation")) {
    const json& g = r.at("generation");
    require_object(g, where);
    j.generation.temperature = number_field(g, "temperature", where);
    j.generation.top_p = number_field(g, "top_p", where);
    j.generation.top_k = static_cast<int>(int_field(g, "top_k", where));
    j.generation.max_tokens = static_cast<int>(int_field(g, "max_tokens", where));
    j.generation.seed = static_cast<uint64_t>(int_field(g, "seed", where));
  }
  return j;
}

Decision decide(const std::vector<const Judgment*>& samples) {
  FARE_CHECK(!samples.empty(), "a decision needs at least one sample");
  Decision d;
  d.item_id = samples.front()->item_id;
  d.order = samples.front()->order;
  d.n_samples = static_cast<int>(samples.size());
  std::vector<const Judgment*> sorted = samples;
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->sample < b->sample; });

  std::map<int, int> votes;
  std::map<int, double> prob_sum;
  std::map<int, int> first_vote;
  double soft_sum = 0;
  int n_soft = 0;
  for (const Judgment* j : sorted) {
    FARE_CHECK(j->item_id == d.item_id && j->order == d.order, "samples of different items or orders");
    if (j->probs) {
      soft_sum += j->probs->soft_score;
      ++n_soft;
    }
    if (!j->valid) continue;
    ++d.n_valid;
    ++votes[j->code];
    if (!first_vote.count(j->code)) first_vote[j->code] = j->sample;
  }
  if (n_soft) d.soft_score = soft_sum / n_soft;
  if (d.n_valid == 0) {
    d.invalid_reason = sorted.front()->verdict.invalid_reason;
    return d;
  }
  for (const Judgment* j : sorted) {
    if (!j->probs) continue;
    for (const auto& [code, name] : verdict_options(j->task, -1)) {
      auto it = std::find(j->probs->options.begin(), j->probs->options.end(), name);
      if (it != j->probs->options.end()) prob_sum[code] += j->probs->probs[it - j->probs->options.begin()];
    }
  }
  int best = 0;
  for (const auto& [code, n] : votes) best = std::max(best, n);
  std::vector<int> tied;
  for (const auto& [code, n] : votes)
    if (n == best) tied.push_back(code);
  d.tie_broken = tied.size() > 1;
  std::sort(tied.begin(), tied.end(), [&](int a, int b) {
    if (prob_sum[a] != prob_sum[b]) return prob_sum[a] > prob_sum[b];
    return first_vote[a] < first_vote[b];
  });
  d.valid = true;
  d.code = tied.front();
  d.n_votes = best;
  return d;
}

}  // namespace fare::judge
