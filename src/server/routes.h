// What the endpoint handlers share: the engine, the judge backend on it, metrics, and the
// bookkeeping that lets a request be refused, timed out, cancelled on disconnect or on shutdown.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/engine.h"
#include "judge/backend.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/server.h"

namespace fare::server {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Raised while waiting when the client has gone: nothing can be answered.
struct ClientGone {};

// Every generation in flight, so that shutdown can cancel what is left.
class Inflight {
 public:
  void add(const std::shared_ptr<Generation>& g);
  void cancel_all();  // also sets cancelled() for the judge's workers
  const std::atomic<bool>& cancelled() const { return cancelled_; }

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Generation>> gens_;
  std::atomic<bool> cancelled_{false};
};

struct Context {
  const ServerOptions& opts;
  std::shared_ptr<const Engine> engine;
  judge::JudgeBackend& judge;
  ServerMetrics& metrics;
  Inflight& inflight;
  std::string model_name;
};

// When a request must end, and how to tell that its client has left.
struct Deadline {
  Clock::time_point until;
  std::function<bool()> client_gone;  // may be empty
};
Deadline deadline_for(const Context& cx, const httplib::Request& req);

// Waits for every generation. The client leaving cancels them all and throws ClientGone; the
// deadline or a shutdown cancels them and throws a 503 ApiError.
std::vector<GenerateResult> wait_all(const Context& cx, const std::vector<std::shared_ptr<Generation>>& gens,
                                     const Deadline& deadline);
// Polls until `done` holds, the same way; `cancel` is set before throwing.
void wait_until(const Context& cx, const std::function<bool()>& done, std::atomic<bool>& cancel, const Deadline& deadline);

// Engine::submit with its refusals as 400s and the generation registered for shutdown.
std::shared_ptr<Generation> submit(const Context& cx, GenerateRequest req, TokenCallback on_token = {});

// A token's bytes; ids past the tokenizer's table (vocabulary padding a random model may sample)
// have none.
std::string token_text(const Tokenizer& tok, int32_t id);

json parse_body(const httplib::Request& req);
void send_json(httplib::Response& res, const json& body, int status = 200);

// Field readers: a wrong type or range is a 400 naming the field.
std::optional<double> opt_number(const json& body, const char* key, double lo, double hi);
std::optional<int64_t> opt_int(const json& body, const char* key, int64_t lo, int64_t hi);
std::optional<bool> opt_bool(const json& body, const char* key);
std::optional<std::string> opt_string(const json& body, const char* key);

// The family of the model's chat template: "qwen3", "chatml", "harmony"; empty when it has none.
std::string chat_family(const Engine& engine);
// OpenAI's reasoning_effort (or chat_template_kwargs.reasoning_effort, as vLLM hands it to the
// template; the top-level field wins): "low", "medium" or "high" for a harmony model; empty when
// the body has none. A 400 naming the field for another value, or for a model of another family.
std::string reasoning_effort(const json& body, const std::string& family);

// A generation request's place among those admitted; released when the last copy goes (a
// streaming response keeps one until its stream ends).
using Ticket = std::shared_ptr<void>;

void handle_chat_completions(const Context& cx, const httplib::Request& req, httplib::Response& res, Ticket ticket);
void handle_completions(const Context& cx, const httplib::Request& req, httplib::Response& res, Ticket ticket);
void handle_models(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_tokenize(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_detokenize(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_tokenizer_info(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_judge(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_rerank(const Context& cx, const httplib::Request& req, httplib::Response& res);
void handle_get_reward(const Context& cx, const httplib::Request& req, httplib::Response& res);

}  // namespace fare::server
