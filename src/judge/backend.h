// What the judge needs from a model, and nothing more: chat messages in, one completion out.
// Transport-neutral on purpose: the local engine, a scripted replay for tests and remote
// OpenAI-compatible HTTP servers all implement this.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace fare::judge {

struct Message {
  std::string role;  // system, user, assistant
  std::string content;
};

struct GenerationSettings {
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;        // 1: off
  int top_k = 0;             // 0: off
  int max_tokens = 4096;
  uint64_t seed = 0;  // the judge adds the sample index, so samples differ and reruns repeat
};

struct JudgeRequest {
  std::vector<Message> messages;
  std::optional<bool> think;  // Qwen3 enable_thinking; unset: the chat template's default
  // gpt-oss (harmony): "low", "medium" or "high"; empty: the chat template's default (medium).
  std::string reasoning_effort;
  GenerationSettings generation;
  int top_logprobs = 0;  // > 0: ask for the K most likely tokens at every generated step
  // Set by the caller when it no longer wants the answer; a backend that can stop early throws
  // RequestCancelled. May be null.
  const std::atomic<bool>* cancel = nullptr;
};

struct TokenAlternative {
  std::string text;
  double logprob = 0;  // natural log, temperature 1
};

// One generated token. Concatenating every step's `text` gives the completion's text, which is
// how a character offset in the text is mapped back to the step that produced it. A step's text
// need not be its token's: a gpt-oss completion's steps carry the <think> markers of its
// canonical text, and its harmony markup as nothing (LocalBackend).
struct TokenStep {
  std::string text;
  double logprob = 0;
  std::vector<TokenAlternative> top;  // most likely first; empty unless top_logprobs > 0
};

// `text` is the model's answer with any reasoning before it as "<think>" + reasoning + "</think>"
// (what Qwen3 writes itself; backends put other models' reasoning in that form): the verdict is
// read after the think block only.
struct JudgeCompletion {
  std::string text;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double seconds = 0;
  std::string finish_reason;     // "eos", "stop", "length"
  std::vector<TokenStep> steps;  // empty when the backend gives no log-probabilities
};

// Thrown by a backend for one request it cannot serve while others may still succeed (a prompt
// longer than the context, say). The judge records it as an invalid judgment with the message in
// `error`; any other exception stops the evaluation, so a broken setup does not fill a results
// file with failures that resuming would then skip.
class RequestRejected : public Error {
 public:
  using Error::Error;
};

// Thrown when JudgeRequest::cancel was set before the completion ended.
class RequestCancelled : public Error {
 public:
  using Error::Error;
};

class JudgeBackend {
 public:
  virtual ~JudgeBackend() = default;
  // Must be safe to call from several threads at once. Throws RequestRejected for a request that
  // cannot be served, fare::Error for anything else.
  virtual JudgeCompletion complete(const JudgeRequest& req) = 0;
  virtual std::string model_id() const = 0;
  // The family of the model's chat template ("qwen3", "chatml", "harmony"); empty when the
  // backend cannot tell (a remote server, replayed outputs).
  virtual std::string chat_family() const { return {}; }
  virtual bool supports_logprobs() const { return false; }
  // One line on how requests are served (memory, batching), for the log; empty when nothing to say.
  virtual std::string setup() const { return {}; }
  // A short note on the load right now (in flight, cache hits), for progress lines; may be empty.
  virtual std::string load() const { return {}; }
  // A line on how serving went (retries, failures), printed when a command ends; may be empty.
  virtual std::string summary() const { return {}; }
};

}  // namespace fare::judge
