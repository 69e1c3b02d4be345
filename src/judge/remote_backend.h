// The judge backend that sends each judgment to OpenAI-compatible servers (fare serve, vLLM,
// SGLang, llama.cpp's llama-server) over HTTP or HTTPS: `-m http://host:8000/v1`, several URLs
// with commas. Lives in its own library (fare_judge_remote), built where cpp-httplib is.
//
// Each request goes to the healthy endpoint with the fewest requests outstanding (ties: the one
// that has been sent the fewest). Connection errors, timeouts, HTTP 408, 429 and 5xx and bodies
// that are not JSON are tried again after an exponential backoff with full jitter (or after the
// server's Retry-After, in seconds), on another endpoint where there is one; an endpoint that
// fails `failures_to_set_aside` times in a row is set aside for a cool-down that doubles each time
// it fails again, and is tried again after it. A prompt the server finds too long for its context
// is RequestRejected (recorded as an invalid judgment); a refused API key, a wrong URL or model,
// any other refusal, an answer that is not a chat completion, and a request that fails every
// retry are fare::Error, which stops an evaluation before anything is recorded for that work, so
// that running the same command again redoes it.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "judge/backend.h"

namespace fare::judge {

struct RemoteOptions {
  std::string model;               // --remote-model; empty: the first id GET /v1/models lists
  double request_timeout_s = 600;  // --request-timeout: longest wait for one answer (or one send)
  int retries = 6;                 // --retries: tries after the first before giving up on a request
  double backoff_base_s = 0.5;     // the k-th retry waits uniform(0, min(cap, base * 2^k))
  double backoff_cap_s = 30;
  double connect_timeout_s = 10;   // at most request_timeout_s
  int failures_to_set_aside = 3;   // consecutive failures that set an endpoint aside
  double set_aside_s = 30;         // the first cool-down; doubles while the endpoint keeps failing
  double set_aside_max_s = 600;
  std::string api_key;             // sent as "Authorization: Bearer KEY" when not empty
};

// What one endpoint has done so far.
struct EndpointStats {
  std::string url;
  int in_flight = 0;
  int64_t sent = 0;       // requests sent to it, retries included
  int64_t answered = 0;   // answers used (completions, model lists)
  int64_t rejected = 0;   // requests it refused as too long (RequestRejected)
  int64_t failed = 0;     // connection errors, timeouts, 408/429/5xx, bodies that are not JSON
  int64_t retried = 0;    // of those, the ones tried again (on it or another endpoint)
  int64_t set_aside = 0;  // times it was set aside
  bool healthy = true;    // false while set aside
};

// "http://..." or "https://..." (or a comma list of them): the spec names remote servers.
// Inline, like api_key_from_environment, so that builds without the HTTP client can still tell.
inline bool is_remote_spec(std::string_view spec) {
  const size_t b = spec.find_first_not_of(" \t");
  if (b != std::string_view::npos) spec.remove_prefix(b);
  return spec.starts_with("http://") || spec.starts_with("https://");
}

// FARE_API_KEY, or else OPENAI_API_KEY, or else empty. A key on the command line would show in
// `ps` and in shell histories; the environment does not.
inline std::string api_key_from_environment() {
  for (const char* name : {"FARE_API_KEY", "OPENAI_API_KEY"})
    if (const char* v = std::getenv(name); v && *v) return v;
  return {};
}

class RemoteBackend : public JudgeBackend {
 public:
  // `spec`: one URL or a comma list, each http(s)://HOST[:PORT][/PATH] where PATH is the API
  // root the server serves /chat/completions and /models under ("/v1" when left out). Asks the
  // first endpoint that answers for its model list when opts.model is empty. Throws fare::Error
  // for a malformed URL or when no model name can be learnt.
  static std::unique_ptr<RemoteBackend> open(const std::string& spec, const RemoteOptions& opts);
  ~RemoteBackend() override;

  JudgeCompletion complete(const JudgeRequest& req) override;
  std::string model_id() const override { return model_; }
  // Asked for whenever the task wants them; a server that sends none gives no steps.
  bool supports_logprobs() const override { return true; }
  std::string setup() const override;    // endpoints, model, timeout, retries
  std::string load() const override;     // in flight per endpoint, endpoints set aside, retries
  std::string summary() const override;  // per endpoint: answered, failed, retried, set aside

  std::vector<EndpointStats> stats() const;
  int64_t steps_dropped() const;  // answers whose log-probabilities did not line up with their text

 private:
  struct State;
  RemoteBackend(std::unique_ptr<State> state, std::string model);
  std::unique_ptr<State> state_;
  std::string model_;
};

}  // namespace fare::judge
