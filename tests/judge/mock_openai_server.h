// An OpenAI-compatible server for the remote backend tests, on 127.0.0.1 at a port the system
// picks: GET /v1/models lists "mock-model"; POST /v1/chat/completions runs the test's script,
// which sees the parsed request and its 0-based number. With an API key required, a request
// without "Authorization: Bearer KEY" gets 401 as llama-server and vLLM answer it. Requests and
// their Authorization headers are kept for the test to check.
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace fare::judge::testing {

// A chat completion whose message content is `content`.
inline nlohmann::json chat_answer(const std::string& content, const std::string& finish = "stop") {
  return {{"id", "chatcmpl-mock"},
          {"object", "chat.completion"},
          {"created", 1},
          {"model", "mock-model"},
          {"choices",
           {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", finish}}}},
          {"usage", {{"prompt_tokens", 100}, {"completion_tokens", 8}, {"total_tokens", 108}}}};
}

inline void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

inline void reply_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, {{"error", {{"message", message}, {"type", "mock_error"}, {"code", status}}}});
}

class MockOpenaiServer {
 public:
  // script(request body, request number, response): fills the response of one chat request.
  using Script = std::function<void(const nlohmann::json&, int, httplib::Response&)>;

  explicit MockOpenaiServer(Script script) : script_(std::move(script)) {
    server_.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      model_lists_++;
      record(req);
      if (!authorized(req)) return reply_error(res, 401, "Invalid API Key");
      reply_json(res, 200, {{"object", "list"}, {"data", {{{"id", "mock-model"}, {"object", "model"}}}}});
    });
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const int n = chats_++;
      record(req);
      if (!authorized(req)) return reply_error(res, 401, "Invalid API Key");
      nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
      script_(body, n, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~MockOpenaiServer() {
    server_.stop();
    thread_.join();
  }
  MockOpenaiServer(const MockOpenaiServer&) = delete;
  MockOpenaiServer& operator=(const MockOpenaiServer&) = delete;

  // Set before the first request.
  void require_api_key(std::string key) { api_key_ = std::move(key); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  int chats() const { return chats_; }
  int model_lists() const { return model_lists_; }
  std::vector<std::string> authorizations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }

 private:
  bool authorized(const httplib::Request& req) const {
    return api_key_.empty() || req.get_header_value("Authorization") == "Bearer " + api_key_;
  }
  void record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    authorizations_.push_back(req.get_header_value("Authorization"));
    bodies_.push_back(req.body);
  }

  Script script_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string api_key_;
  std::atomic<int> chats_{0}, model_lists_{0};
  mutable std::mutex mu_;
  std::vector<std::string> authorizations_, bodies_;
};

// A URL on 127.0.0.1 where nothing listens: a port the system handed out and took back.
inline std::string closed_port_url() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0) ::close(fd);
  return "http://127.0.0.1:" + std::to_string(port) + "/v1";
}

}  // namespace fare::judge::testing
