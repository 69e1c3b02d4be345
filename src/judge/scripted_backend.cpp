#include "judge/scripted_backend.h"

#include <filesystem>

#include "common/error.h"
#include "judge/dataset_adapter.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;

int approx_tokens(const std::string& text) {
  return text.empty() ? 0 : std::max<int>(1, static_cast<int>(text.size() / 4));
}

namespace {

bool rule_matches(const ScriptRule& rule, const JudgeRequest& req) {
  if (rule.seed && *rule.seed != req.generation.seed) return false;
  for (const std::string& needle : rule.contains) {
    bool found = false;
    for (const Message& m : req.messages) found = found || m.content.find(needle) != std::string::npos;
    if (!found) return false;
  }
  return true;
}

JudgeCompletion fill_counts(JudgeCompletion c, const JudgeRequest& req) {
  if (c.prompt_tokens == 0) {
    std::string all;
    for (const Message& m : req.messages) all += m.content;
    c.prompt_tokens = approx_tokens(all);
  }
  if (c.completion_tokens == 0) c.completion_tokens = approx_tokens(c.text);
  if (c.finish_reason.empty()) c.finish_reason = "eos";
  if (req.top_logprobs == 0) c.steps.clear();
  return c;
}

ScriptRule rule_from_json(const json& v, const std::string& where) {
  require_object(v, where);
  ScriptRule r;
  if (has_field(v, "contains")) {
    const json& c = v.at("contains");
    if (c.is_string())
      r.contains = {c.get<std::string>()};
    else
      r.contains = string_array_field(v, "contains", where);
  }
  if (has_field(v, "seed")) r.seed = static_cast<uint64_t>(int_field(v, "seed", where));
  r.completion.text = string_field(v, "output", where);
  r.completion.finish_reason = optional_string_field(v, "finish_reason", where).value_or("eos");
  if (has_field(v, "steps")) {
    for (const json& s : v.at("steps")) {
      TokenStep step;
      step.text = string_field(s, "text", where);
      step.logprob = has_field(s, "logprob") ? number_field(s, "logprob", where) : 0.0;
      if (has_field(s, "top"))
        for (const json& alt : s.at("top")) step.top.push_back({alt.at(0).get<std::string>(), alt.at(1).get<double>()});
      r.completion.steps.push_back(std::move(step));
    }
  }
  return r;
}

}  // namespace

ScriptedBackend::ScriptedBackend(std::string model_id, std::vector<ScriptRule> rules)
    : model_id_(std::move(model_id)) {
  for (const ScriptRule& r : rules) logprobs_ = logprobs_ || !r.completion.steps.empty();
  responder_ = [rules = std::move(rules)](const JudgeRequest& req) {
    for (const ScriptRule& r : rules)
      if (rule_matches(r, req)) return r.completion;
    std::string head = req.messages.empty() ? "" : req.messages.back().content.substr(0, 80);
    throw RequestRejected(cat("scripted backend: no rule matches the request (seed ", req.generation.seed,
                              ", user message starts \"", head, "\")"));
  };
}

ScriptedBackend::ScriptedBackend(std::string model_id, Responder responder, bool logprobs)
    : model_id_(std::move(model_id)), responder_(std::move(responder)), logprobs_(logprobs) {}

std::unique_ptr<ScriptedBackend> ScriptedBackend::from_file(const std::string& path) {
  std::vector<ScriptRule> rules;
  for (const Record& r : read_records(path)) {
    if (!r.value) fail(r.where, ": not valid JSON (", r.parse_error, ")");
    rules.push_back(rule_from_json(*r.value, r.where));
  }
  if (rules.empty()) fail(path, ": no rules");
  return std::make_unique<ScriptedBackend>("scripted:" + std::filesystem::path(path).stem().string(),
                                           std::move(rules));
}

JudgeCompletion ScriptedBackend::complete(const JudgeRequest& req) {
  ++n_calls_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
  }
  return fill_counts(responder_(req), req);
}

std::vector<JudgeRequest> ScriptedBackend::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

}  // namespace fare::judge
