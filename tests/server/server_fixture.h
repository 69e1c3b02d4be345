// A fare server on 127.0.0.1 (any free port) in the test process, on a fixture model, and an
// HTTP client for it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "engine/engine.h"
#include "server/server.h"
#include "support/derived_models.h"

namespace fare::server::testing {

using json = nlohmann::json;

// A long context: tests that need a generation to outlast something ask for many tokens.
inline std::shared_ptr<const Engine> micro_engine(int n_ctx = 32768, int max_sequences = 4) {
  EngineOptions o;
  o.n_threads = 2;
  o.n_ctx = n_ctx;
  o.max_sequences = max_sequences;
  return std::shared_ptr<const Engine>(Engine::open(test::fixture("micro-qwen3/hf-bf16"), o));
}

struct TestServer {
  explicit TestServer(ServerOptions opts = {}, std::shared_ptr<const Engine> engine = micro_engine(), bool ready = true)
      : engine_(std::move(engine)) {
    opts.port = 0;
    server = std::make_unique<Server>(opts);
    server->start();
    if (ready) server->set_engine(engine_);
  }
  ~TestServer() {
    server->shutdown();
    server->wait();
  }
  httplib::Client client(double read_timeout = 60) const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(static_cast<time_t>(read_timeout), static_cast<time_t>((read_timeout - static_cast<time_t>(read_timeout)) * 1e6));
    return c;
  }
  httplib::Result post(const std::string& path, const json& body, httplib::Headers h = {}) const {
    auto c = client();
    return c.Post(path.c_str(), h, body.dump(), "application/json");
  }
  const Engine& engine() const { return *engine_; }

  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<Server> server;
};

inline json body_of(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  if (!r) return json();
  return json::parse(r->body);
}

// The error object every failure carries; checks its shape.
inline json error_of(const httplib::Result& r, int status) {
  EXPECT_TRUE(r);
  if (!r) return json();
  EXPECT_EQ(r->status, status) << r->body;
  const json b = json::parse(r->body);
  EXPECT_TRUE(b.contains("error")) << r->body;
  const json& e = b["error"];
  for (const char* k : {"message", "type", "param", "code"}) EXPECT_TRUE(e.contains(k)) << k << " in " << r->body;
  EXPECT_EQ(e.value("code", 0), status);
  return e;
}

}  // namespace fare::server::testing
