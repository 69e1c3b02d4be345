// Request bodies of fare serve's endpoints (server/server.h), over HTTP to a server in this
// process on 127.0.0.1 (any free port), serving the micro fixture model with a 256-token context
// and a 2-second request timeout, so that any generation ends soon. Byte 0 picks the endpoint
// (bits 0-2) and whether the body's generation lengths are capped (bit 3: max_tokens and
// options.max_tokens at most 4, n and samples at most 2, where the body is a JSON object); the
// rest is the body, posted as application/json.
// Checked: every request is answered (within 30 s); no answer is a 5xx other than 503 (the
// timeout, a full queue); every 4xx/503 body is {"error": {message, type, param, code}} with the
// status as its code; a 200 JSON answer is valid JSON.
#include <httplib.h>

#include <array>
#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "fuzz_util.h"
#include "server/server.h"

namespace {

using nlohmann::json;

constexpr std::array<const char*, 8> kPaths = {"/v1/chat/completions", "/v1/completions", "/tokenize",
                                               "/detokenize",          "/v1/judge",       "/v1/rerank",
                                               "/get_reward",          "/chat/completions"};

fare::server::Server* g_server = nullptr;

void clamp(json& obj, const char* key, int64_t most, bool insert) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (insert) obj[key] = most;
  } else if (it->is_number() && !(it->get<double>() <= static_cast<double>(most))) {
    *it = most;
  }
}

// Caps what a body may ask the model to generate (the rest of the body is left as it is).
std::string capped(std::string_view body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    return std::string(body);
  }
  if (!j.is_object()) return std::string(body);
  clamp(j, "max_tokens", 4, true);
  clamp(j, "max_completion_tokens", 4, false);
  clamp(j, "n", 2, false);
  auto opts = j.find("options");
  if (opts != j.end() && opts->is_object()) {
    clamp(*opts, "max_tokens", 4, true);
    clamp(*opts, "samples", 2, false);
  } else if (opts == j.end()) {
    j["options"] = {{"max_tokens", 4}};
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void check_error_body(int status, const std::string& body) {
  json b;
  try {
    b = json::parse(body);
  } catch (const json::exception& e) {
    fare::fuzz::finding("HTTP ", status, " with a body that is not JSON: ", body.substr(0, 300));
  }
  FUZZ_CHECK(b.is_object() && b.contains("error") && b["error"].is_object(), "HTTP ", status, ": ", body.substr(0, 300));
  const json& e = b["error"];
  for (const char* k : {"message", "type", "param", "code"}) FUZZ_CHECK(e.contains(k), "no '", k, "' in ", body.substr(0, 300));
  FUZZ_CHECK(e["code"] == status, "code ", e["code"].dump(), " for HTTP ", status);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fare::EngineOptions eo;
  eo.n_threads = 1;
  eo.n_ctx = 256;
  eo.max_sequences = 2;
  std::shared_ptr<const fare::Engine> engine(fare::Engine::open(fare::fuzz::fixture("micro-qwen3/hf-bf16"), eo));
  fare::server::ServerOptions so;
  so.port = 0;
  so.request_timeout = 2;
  so.shutdown_grace = 1;
  so.reward.max_tokens = 4;
  g_server = new fare::server::Server(so);
  g_server->start();
  g_server->set_engine(engine);
  std::atexit([] {
    g_server->shutdown();
    g_server->wait();
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const char* path = kPaths[data[0] & 7];
  const std::string_view raw = fare::fuzz::as_text(data + 1, size - 1);
  const std::string body = (data[0] & 8) ? capped(raw) : std::string(raw);
  httplib::Client client("127.0.0.1", g_server->port());
  client.set_read_timeout(30, 0);
  const httplib::Result r = client.Post(path, body, "application/json");
  FUZZ_CHECK(r, "no answer to POST ", path, ": ", httplib::to_string(r.error()));
  const int status = r->status;
  FUZZ_CHECK(status < 500 || status == 503, "HTTP ", status, " from POST ", path, ": ", r->body.substr(0, 500));
  if (status >= 400) {
    check_error_body(status, r->body);
  } else if (r->get_header_value("Content-Type").starts_with("application/json")) {
    FUZZ_CHECK(json::accept(r->body), "HTTP ", status, " with invalid JSON from POST ", path);
  }
  return 0;
}
