// fare serve: the OpenAI-compatible, tokenizer, judge and reward endpoints over HTTP. HTTP
// threads parse, validate and wait; every generation goes through the engine's batching
// scheduler (Engine::submit), so requests from all clients share its forward passes.
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace fare {
class Engine;
}

namespace fare::server {

// How /get_reward turns a judgment into a number (documented in the README, "Serving").
struct RewardOptions {
  std::string task;              // "verify", "verify_ref" or "rating"; empty: verify_ref with labels, else verify
  double correct = 1.0;          // verify: the verdict Correct
  double incorrect = 0.0;        // verify: the verdict Incorrect
  double invalid = 0.0;          // no valid verdict (unparsable output, prompt too long)
  bool use_probability = false;  // verify: P(Correct) from the verdict token's log-probabilities instead
  int max_tokens = 0;            // the judge's budget per reward; 0: the task's default
  std::string reasoning_effort;  // gpt-oss (harmony) judges: low, medium or high; empty: the template's default
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0: any free port (Server::port() tells which)
  std::string api_key;                  // empty: no key needed
  size_t max_body_bytes = 16u << 20;    // larger bodies get 413
  int max_requests = 0;                 // generation requests admitted at once (running + queued); 0: 8 x the engine's sequences
  double request_timeout = 600;         // seconds; then the request is cancelled and answered 503
  double shutdown_grace = 30;           // seconds SIGTERM lets in-flight requests finish before cancelling them
  std::optional<bool> default_thinking;  // enable_thinking when a chat request does not say; unset: the template's
  std::string model_name;               // the name clients use; empty: the model's folder or file name
  std::string template_dir;             // FARE templates overriding the built-in ones (as --templates)
  RewardOptions reward;
  int http_threads = 0;                 // connections served at once; 0: max(256, 4 x max_requests + 64)
  int judge_parallel = 0;               // judgments of one /v1/judge or /v1/rerank request in flight; 0: the engine's sequences
};

class Server {
 public:
  explicit Server(ServerOptions opts);
  ~Server();
  // Binds the socket and starts answering (503 on model routes until set_engine). Throws
  // fare::Error when the address cannot be bound.
  void start();
  int port() const;
  // The model is loaded: model routes open.
  void set_engine(std::shared_ptr<const Engine> engine);
  // Stops taking work (503 for new generation requests), lets in-flight requests run for up to
  // the shutdown grace, cancels what is left, then closes the socket. Safe from any thread.
  void shutdown();
  // Blocks until the server has stopped.
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fare::server
