// A backend that replays prepared outputs, for tests and for trying the pipeline without a model.
// The output is chosen by the request's content (and seed), never by call order, so a resumed or
// parallel run gets the same answers as an uninterrupted one.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "judge/backend.h"

namespace fare::judge {

struct ScriptRule {
  std::vector<std::string> contains;  // every one must occur in the messages; empty: matches anything
  std::optional<uint64_t> seed;       // match only this sampling seed
  JudgeCompletion completion;         // token counts left at 0 are filled in from the text lengths
};

class ScriptedBackend : public JudgeBackend {
 public:
  using Responder = std::function<JudgeCompletion(const JudgeRequest&)>;

  // The first rule that matches answers; no match is a RequestRejected (an invalid judgment).
  ScriptedBackend(std::string model_id, std::vector<ScriptRule> rules);
  ScriptedBackend(std::string model_id, Responder responder, bool logprobs = false);

  // JSONL, one rule per line: {"contains": "text" | ["a", "b"], "seed": 3, "output": "...",
  // "finish_reason": "eos", "steps": [{"text": "A", "logprob": -0.1, "top": [["A", -0.1], ["B", -2.4]]}]}.
  // The model id is "scripted:<file stem>".
  static std::unique_ptr<ScriptedBackend> from_file(const std::string& path);

  JudgeCompletion complete(const JudgeRequest& req) override;
  std::string model_id() const override { return model_id_; }
  bool supports_logprobs() const override { return logprobs_; }

  size_t n_calls() const { return n_calls_; }
  std::vector<JudgeRequest> requests() const;  // every request so far, in arrival order

 private:
  std::string model_id_;
  Responder responder_;
  bool logprobs_ = false;
  std::atomic<size_t> n_calls_{0};
  mutable std::mutex mu_;
  std::vector<JudgeRequest> requests_;
};

// A crude token count (bytes / 4, at least 1 for non-empty text) for replayed outputs.
int approx_tokens(const std::string& text);

}  // namespace fare::judge
