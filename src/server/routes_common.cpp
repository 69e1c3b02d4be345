// The pieces every endpoint uses: body parsing, field readers, submission and waiting.
#include <thread>

#include "common/error.h"
#include "server/client_watch.h"
#include "server/routes.h"

namespace fare::server {

void Inflight::add(const std::shared_ptr<Generation>& g) {
  std::lock_guard lock(mu_);
  std::erase_if(gens_, [](const std::weak_ptr<Generation>& w) { return w.expired(); });
  gens_.push_back(g);
  if (cancelled_) g->cancel();
}

void Inflight::cancel_all() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  for (auto& w : gens_)
    if (auto g = w.lock()) g->cancel();
}

Deadline deadline_for(const Context& cx, const httplib::Request& req) {
  auto watch = std::make_shared<ClientWatch>(req.remote_addr, req.remote_port, req.local_port);
  return {Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cx.opts.request_timeout)),
          [watch] { return watch->gone(); }};
}

void wait_until(const Context& cx, const std::function<bool()>& done, std::atomic<bool>& cancel,
                const Deadline& deadline) {
  while (!done()) {
    if (deadline.client_gone && deadline.client_gone()) {
      cancel = true;
      throw ClientGone{};
    }
    if (Clock::now() >= deadline.until) {
      cancel = true;
      throw ApiError(503, "unavailable_error",
                     cat("the request ran longer than the server's timeout of ", cx.opts.request_timeout,
                         " s and was cancelled"));
    }
    if (cx.inflight.cancelled()) {
      cancel = true;
      throw ApiError(503, "unavailable_error", "the server is shutting down; the request was cancelled");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<GenerateResult> wait_all(const Context& cx, const std::vector<std::shared_ptr<Generation>>& gens,
                                     const Deadline& deadline) {
  std::atomic<bool> cancel{false};
  try {
    wait_until(cx, [&] {
      for (const auto& g : gens)
        if (!g->done()) return false;
      return true;
    }, cancel, deadline);
  } catch (...) {
    for (const auto& g : gens) g->cancel();
    throw;
  }
  std::vector<GenerateResult> out;
  for (const auto& g : gens) out.push_back(g->wait());
  // Only a shutdown cancels a generation this thread is waiting for.
  for (const auto& r : out)
    if (r.finish_reason == "cancelled")
      throw ApiError(503, "unavailable_error", "the server is shutting down; the request was cancelled");
  return out;
}

std::shared_ptr<Generation> submit(const Context& cx, GenerateRequest req, TokenCallback on_token) {
  const int64_t n_prompt = static_cast<int64_t>(req.prompt.size());
  if (n_prompt >= cx.engine->n_ctx()) throw context_exceeded(n_prompt, cx.engine->n_ctx());
  req.max_tokens = static_cast<int>(std::min<int64_t>(req.max_tokens, cx.engine->n_ctx() - n_prompt));
  std::shared_ptr<Generation> g;
  try {
    g = cx.engine->submit(std::move(req), std::move(on_token));
  } catch (const Error& e) {
    throw bad_request(e.what());
  }
  cx.inflight.add(g);
  return g;
}

std::string token_text(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.n_vocab() ? tok.token_bytes(id) : std::string();
}

json parse_body(const httplib::Request& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) {
    // Parse again for the position of the error.
    try {
      const json again = json::parse(req.body);
      (void)again;
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number beyond double's range
      throw bad_request(cat("the body is not valid JSON: ", e.what()));
    }
    throw bad_request("the body is not valid JSON");
  }
  return body;
}

void send_json(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

namespace {

// A value as written, cut short: error messages quote what was sent, not megabytes of it.
std::string quoted(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 120) s = s.substr(0, 120) + "...";
  return s;
}

const json* field(const json& body, const char* key) {
  if (!body.is_object()) throw bad_request("the body must be a JSON object");
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::optional<double> opt_number(const json& body, const char* key, double lo, double hi) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number()) throw bad_request(cat("'", key, "' must be a number, got ", quoted(*v)), key);
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi)) throw bad_request(cat("'", key, "' is ", d, ", expected a value in [", lo, ", ", hi, "]"), key);
  return d;
}

std::optional<int64_t> opt_int(const json& body, const char* key, int64_t lo, int64_t hi) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() && !(v->is_number_float() && v->get<double>() == static_cast<double>(static_cast<int64_t>(v->get<double>()))))
    throw bad_request(cat("'", key, "' must be an integer, got ", quoted(*v)), key);
  const int64_t i = v->is_number_integer() ? v->get<int64_t>() : static_cast<int64_t>(v->get<double>());
  if (i < lo || i > hi) throw bad_request(cat("'", key, "' is ", i, ", expected an integer in [", lo, ", ", hi, "]"), key);
  return i;
}

std::optional<bool> opt_bool(const json& body, const char* key) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) throw bad_request(cat("'", key, "' must be true or false, got ", quoted(*v)), key);
  return v->get<bool>();
}

std::optional<std::string> opt_string(const json& body, const char* key) {
  const json* v = field(body, key);
  if (!v) return std::nullopt;
  if (!v->is_string()) throw bad_request(cat("'", key, "' must be a string, got ", quoted(*v)), key);
  return v->get<std::string>();
}

std::string chat_family(const Engine& engine) { return engine.info().chat_family; }

std::string reasoning_effort(const json& body, const std::string& family) {
  std::optional<std::string> effort;
  const char* param = "reasoning_effort";
  if (auto it = body.find("chat_template_kwargs"); it != body.end() && it->is_object()) {
    effort = opt_string(*it, "reasoning_effort");
    if (effort) param = "chat_template_kwargs";
  }
  if (auto top = opt_string(body, "reasoning_effort")) {
    effort = top;
    param = "reasoning_effort";
  }
  if (!effort) return {};
  if (*effort != "low" && *effort != "medium" && *effort != "high")
    throw bad_request(cat("'reasoning_effort' must be \"low\", \"medium\" or \"high\", got ", json(*effort).dump()), param);
  if (family != "harmony")
    throw bad_request(cat("'reasoning_effort' is a setting of gpt-oss (harmony) models; this model's chat template is ",
                          family.empty() ? std::string("unusable") : family, ", which has none"),
                      param);
  return *effort;
}

}  // namespace fare::server
