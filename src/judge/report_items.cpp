#include "judge/report_items.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "judge/verdict.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

bool invalid(const std::optional<Decision>& d) { return !d || !d->valid; }

std::string reason_of(const std::optional<Decision>& d) {
  if (!d) return "not judged";  // an interrupted run: the item has no judgment yet
  return d->invalid_reason.empty() ? "no valid sample" : d->invalid_reason;
}

ItemStatus invalid_status(const ItemOutcome& o) {
  const std::optional<Decision>& first = invalid(o.as_given) ? o.as_given : o.swapped;
  return {"invalid", o.label.has_value(), false, "invalid: " + reason_of(first)};
}

ItemStatus pairwise_both_orders(const ItemOutcome& o) {
  if (invalid(o.as_given) || invalid(o.swapped)) return invalid_status(o);
  if (o.as_given->code != o.swapped->code) return {"inconsistent", o.label.has_value(), false, "inconsistent"};
  if (!o.label) return {"consistent", false, false, ""};
  if (o.as_given->code == static_cast<int>(*o.label)) return {"consistent right", true, true, ""};
  return {"consistent wrong", true, false, "consistent wrong"};
}

// Why a single decision with a label is wrong, in the task's own terms.
std::string wrong_kind(Task task, int said, double label) {
  switch (task) {
    case Task::kStep:
      if (said == kNoError) return "missed error";
      return label == kNoError ? "false alarm" : "wrong step";
    case Task::kVerify:
    case Task::kVerifyRef: return said == kCorrect ? "false accept" : "false reject";
    default: return "wrong";
  }
}

ItemStatus single_decision(Task task, const ItemOutcome& o) {
  if (invalid(o.as_given)) return invalid_status(o);
  const int said = o.as_given->code;
  if (task == Task::kRating) {
    if (o.label && std::fabs(said - *o.label) >= kFarFromReference)
      return {"far from reference", true, false, "far from reference"};
    return {"rated", o.label.has_value(), false, ""};
  }
  if (!o.label) return {"judged", false, false, ""};
  if (said == static_cast<int>(*o.label)) return {"right", true, true, ""};
  std::string kind = wrong_kind(task, said, *o.label);
  return {kind, true, false, kind};
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The option's probability in the item's terms, when log-probabilities were read.
ojson verdict_confidence(const Judgment& j) {
  if (!j.probs || !j.valid) return nullptr;
  const std::string text = verdict_code_text(j.task, j.code);
  for (size_t k = 0; k < j.probs->options.size(); ++k)
    if (j.probs->options[k] == text) return j.probs->probs[k];
  return nullptr;
}

ojson raw_parts(const Judgment& j, const Item* item) {
  int n_steps = item && !item->steps.empty() ? static_cast<int>(item->steps.size()) : -1;
  std::optional<std::pair<size_t, size_t>> span = verdict_span(j.raw, j.task, n_steps);
  if (!span) return ojson::array({j.raw});
  return ojson::array({j.raw.substr(0, span->first), j.raw.substr(span->first, span->second - span->first),
                       j.raw.substr(span->second)});
}

ojson item_parts(const Item& it) {
  ojson parts = ojson::array();
  auto add = [&](const std::string& name, const std::string& text) { parts.push_back({{"name", name}, {"text", text}}); };
  switch (it.task) {
    case Task::kPairwise:
      add("Answer A", it.response_a);
      add("Answer B", it.response_b);
      break;
    case Task::kStep:
      for (size_t k = 0; k < it.steps.size(); ++k) add(cat("Step ", k), it.steps[k]);
      break;
    default:
      if (it.reference) add("Reference", *it.reference);
      if (it.response) add("Response", *it.response);
      break;
  }
  if ((it.task == Task::kPairwise || it.task == Task::kStep) && it.reference) add("Reference", *it.reference);
  return parts;
}

}  // namespace

ItemStatus item_status(Task task, const ItemOutcome& o, bool swap) {
  if (task == Task::kPairwise && swap) return pairwise_both_orders(o);
  return single_decision(task, o);
}

std::vector<std::string> item_statuses(Task task, bool swap) {
  switch (task) {
    case Task::kPairwise:
      if (swap) return {"consistent right", "consistent wrong", "inconsistent", "invalid"};
      return {"right", "wrong", "invalid"};
    case Task::kStep: return {"right", "missed error", "false alarm", "wrong step", "invalid"};
    case Task::kVerify:
    case Task::kVerifyRef: return {"right", "false accept", "false reject", "invalid"};
    case Task::kRating: return {"rated", "far from reference", "invalid"};
  }
  return {};
}

std::string code_text(Task task, double code) {
  if (task == Task::kStep) return code == kNoError ? "no error" : cat("step ", static_cast<int>(code));
  if (task == Task::kRating && code != std::floor(code)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", code);
    return buf;
  }
  return verdict_code_text(task, static_cast<int>(code));
}

std::string decision_text(Task task, const ItemOutcome& o) {
  auto one = [&](const std::optional<Decision>& d) { return invalid(d) ? std::string("invalid") : code_text(task, d->code); };
  if (task == Task::kPairwise && o.swapped) return one(o.as_given) + " / " + one(o.swapped);
  return one(o.as_given);
}

std::optional<std::pair<size_t, size_t>> verdict_span(const std::string& raw, Task task, int n_steps) {
  Verdict v = parse_verdict(raw, {task, n_steps});
  size_t at = v.option_offset;
  if (at == std::string::npos && !v.verdict_line.empty()) at = raw.rfind(v.verdict_line);
  if (at == std::string::npos) at = lower(raw).rfind("verdict");  // "Verdict:" with nothing after it
  if (at == std::string::npos) return std::nullopt;
  size_t begin = raw.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = raw.find('\n', at);
  if (end == std::string::npos) end = raw.size();
  return std::make_pair(begin, end);
}

ojson judgment_records(const RunData& run, size_t index, const std::string& tag) {
  const Item& it = run.items[index];
  ojson out = ojson::array();
  auto found = run.judgments_of.find(it.id);
  if (found == run.judgments_of.end()) return out;
  for (size_t k : found->second) {
    const Judgment& j = run.judgments[k];
    ojson r = {{"run", tag},
               {"order", j.task == Task::kPairwise ? ojson(order_name(j.order)) : ojson(nullptr)},
               {"sample", j.sample},
               {"verdict", j.valid ? ojson(code_text(j.task, j.code)) : ojson(nullptr)},
               // On a swapped pair the model's [B] is the item's A: the page says both.
               {"written", j.valid && j.order == Order::kSwapped ? ojson(code_text(j.task, 1 - j.code)) : ojson(nullptr)},
               {"reason", j.valid ? ojson(nullptr) : ojson(j.invalid_reason())},
               {"error", j.error.empty() ? ojson(nullptr) : ojson(j.error)},
               {"finish", j.finish_reason},
               {"tokens", j.completion_tokens},
               {"confidence", verdict_confidence(j)},
               {"raw", raw_parts(j, run.have_texts ? &it : nullptr)}};
    out.push_back(std::move(r));
  }
  return out;
}

ojson item_record(const RunData& run, size_t index, const std::string& tag) {
  const Item& it = run.items[index];
  const ItemOutcome& o = run.outcomes[index];
  ItemStatus st = item_status(run.task, o, run.swap);
  ojson r = {{"id", it.id},
             {"subset", it.subset},
             {"difficulty", it.difficulty},
             {"label", it.label ? ojson(code_text(run.task, *it.label)) : ojson(nullptr)},
             {"decision", decision_text(run.task, o)},
             {"status", st.status}};
  if (run.have_texts) {
    r["question"] = it.instruction;
    r["parts"] = item_parts(it);
  }
  r["judgments"] = judgment_records(run, index, tag);
  return r;
}

}  // namespace fare::judge
