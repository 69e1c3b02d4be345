// The judge backend that runs a model in this process through the engine's public API.
// Lives in its own library (fare_judge_local) so that the judge itself does not depend on the engine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "judge/backend.h"

namespace fare {
class Engine;
struct EngineOptions;
}

namespace fare::judge {

class LocalBackend : public JudgeBackend {
 public:
  // A Hugging Face folder or a .gguf file; throws fare::Error with the engine's message.
  static std::unique_ptr<LocalBackend> open(const std::string& model_path, const EngineOptions& opts);
  // An engine shared with other users (the server's OpenAI endpoints).
  explicit LocalBackend(std::shared_ptr<const Engine> engine);
  ~LocalBackend() override;

  // The chat template renders the messages (enable_thinking and reasoning_effort from the
  // request; an effort for a model that is not harmony is a fare::Error); a prompt that leaves no
  // room in the context is a RequestRejected; max_tokens is capped at what the context holds. A
  // harmony model's output becomes "<think>" + analysis + "</think>" + final answer
  // (harmony_completion.h).
  JudgeCompletion complete(const JudgeRequest& req) override;
  // The prompt complete() sends: the chat template's markers are control tokens, the messages
  // (and so every item field filled into the task template) are plain text, whatever they say.
  std::vector<int32_t> prompt_ids(const JudgeRequest& req) const;
  const Engine& engine() const { return *engine_; }
  std::string model_id() const override;
  std::string chat_family() const override { return chat_family_; }
  bool supports_logprobs() const override { return true; }
  std::string setup() const override;
  std::string load() const override;

 private:
  std::shared_ptr<const Engine> engine_;
  std::string chat_family_;
};

}  // namespace fare::judge
