#include "server/server.h"

#include <condition_variable>
#include <thread>

#include "common/error.h"
#include "judge/local_backend.h"
#include "server/routes.h"

namespace fare::server {

namespace {

bool is_public(const std::string& path) { return path == "/health"; }

std::string bearer_token(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() > kBearer.size() && std::string_view(auth).substr(0, kBearer.size()) == kBearer)
    return auth.substr(kBearer.size());
  return req.get_header_value("X-Api-Key");
}

// Comparing every byte whatever the first difference, so the time taken does not tell how much
// of a guessed key was right.
bool same_key(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(1, b.size())]);
  return diff == 0 && !b.empty();
}

}  // namespace

void check_json(const httplib::Request& req) {
  if (!nlohmann::json::accept(req.body)) (void)parse_body(req);  // throws the 400 with the position
}

struct Server::Impl {
  explicit Impl(ServerOptions o) : opts(std::move(o)) {}

  ServerOptions opts;
  httplib::Server http;
  std::thread listener;
  int bound_port = -1;
  ServerMetrics metrics;
  Inflight inflight;

  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<const Engine> engine;
  std::unique_ptr<judge::JudgeBackend> judge;
  std::unique_ptr<Context> cx;
  int admitted = 0;
  int max_admitted = 0;
  bool draining = false;
  bool stopped = false;

  const Context* context() {
    std::lock_guard lock(mu);
    return cx.get();
  }

  Ticket admit() {
    std::lock_guard lock(mu);
    if (draining) throw ApiError(503, "unavailable_error", "the server is shutting down");
    if (admitted >= max_admitted)
      throw ApiError(429, "unavailable_error",
                     cat("the server is busy: ", admitted, " requests are running or queued, the most it takes is ",
                         max_admitted, "; retry later"));
    ++admitted;
    return Ticket(nullptr, [this](void*) {
      std::lock_guard l(mu);
      --admitted;
      cv.notify_all();
    });
  }

  void error_response(httplib::Response& res, const ApiError& e) {
    if (e.status() == 429 || e.status() == 503) {
      metrics.refused(e.status());
      res.set_header("Retry-After", "1");
    }
    send_json(res, error_body(e), e.status());
  }

  // Runs a handler with the model loaded, mapping every failure to an error response.
  template <typename F>
  void guarded(httplib::Response& res, F&& fn) {
    try {
      const Context* c = context();
      if (!c) throw ApiError(503, "unavailable_error", "Loading model");
      fn(*c);
    } catch (const ApiError& e) {
      error_response(res, e);
    } catch (const ClientGone&) {
      res.status = 499;  // nobody reads it: the client closed the connection
    } catch (const judge::RequestCancelled& e) {
      error_response(res, ApiError(503, "unavailable_error", e.what()));
    } catch (const std::exception& e) {
      metrics.request_failed();
      error_response(res, ApiError(500, "server_error", e.what()));
    }
  }

  void route_generation(const char* path, void (*fn)(const Context&, const httplib::Request&, httplib::Response&, Ticket)) {
    http.Post(path, [this, fn](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&](const Context& c) {
        check_json(req);  // a malformed body is a 400 even when the queue is full
        fn(c, req, res, admit());
      });
    });
  }

  void route(bool post, const char* path, void (*fn)(const Context&, const httplib::Request&, httplib::Response&),
             bool counts = false) {
    auto handler = [this, fn, counts](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&](const Context& c) {
        if (counts) check_json(req);
        Ticket t = counts ? admit() : Ticket();
        fn(c, req, res);
      });
    };
    if (post)
      http.Post(path, handler);
    else
      http.Get(path, handler);
  }

  void setup_routes() {
    http.set_payload_max_length(opts.max_body_bytes);
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (opts.api_key.empty() || is_public(req.path)) return httplib::Server::HandlerResponse::Unhandled;
      if (same_key(bearer_token(req), opts.api_key)) return httplib::Server::HandlerResponse::Unhandled;
      send_json(res, error_body(ApiError(401, "authentication_error", "Invalid API Key")), 401);
      return httplib::Server::HandlerResponse::Handled;
    });
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler's own error
      if (res.status == 404)
        send_json(res, error_body(ApiError(404, "not_found_error", cat("no route for ", req.method, " ", req.path))), 404);
      else if (res.status == 413)
        send_json(res, error_body(ApiError(413, "invalid_request_error",
                                           cat("the request body is larger than the limit of ", opts.max_body_bytes,
                                               " bytes"))),
                  413);
      else if (res.status >= 400)
        send_json(res, error_body(ApiError(res.status, "invalid_request_error", cat("HTTP ", res.status))), res.status);
    });
    http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      metrics.request_failed();
      send_json(res, error_body(ApiError(500, "server_error", what)), 500);
    });

    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      if (!context()) return error_response(res, ApiError(503, "unavailable_error", "Loading model"));
      send_json(res, {{"status", "ok"}});
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      guarded(res, [&](const Context& c) {
        res.set_content(metrics.render(c.model_name, c.engine->stats()), "text/plain; version=0.0.4");
      });
    });
    route_generation("/v1/chat/completions", handle_chat_completions);
    route_generation("/chat/completions", handle_chat_completions);
    route_generation("/v1/completions", handle_completions);
    route_generation("/completions", handle_completions);
    route(false, "/v1/models", handle_models);
    route(false, "/models", handle_models);
    route(true, "/tokenize", handle_tokenize);
    route(true, "/detokenize", handle_detokenize);
    route(false, "/tokenizer_info", handle_tokenizer_info);
    route(true, "/v1/judge", handle_judge, true);
    route(true, "/v1/rerank", handle_rerank, true);
    route(true, "/rerank", handle_rerank, true);
    route(true, "/get_reward", handle_get_reward, true);
  }
};

Server::Server(ServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

Server::~Server() {
  if (impl_->listener.joinable()) {
    impl_->http.stop();
    impl_->listener.join();
  }
}

void Server::start() {
  Impl& s = *impl_;
  s.setup_routes();
  // cpp-httplib serves a connection on one pool thread for as long as the connection lives
  // (keep-alive included): a connection beyond the pool waits for a thread. Threads are cheap
  // next to a model; the default leaves room for every admitted request, refusals and idle clients.
  const size_t threads = static_cast<size_t>(
      s.opts.http_threads > 0 ? s.opts.http_threads : std::max(256, 4 * std::max(1, s.opts.max_requests) + 64));
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Clients keep their connections (cpp-httplib closes one after 5 requests by default).
  s.http.set_keep_alive_max_count(10000);
  s.http.set_keep_alive_timeout(5);
  s.http.set_read_timeout(30);
  s.http.set_write_timeout(30);
  if (s.opts.port == 0) {
    s.bound_port = s.http.bind_to_any_port(s.opts.host);
    if (s.bound_port < 0) fail("cannot listen on ", s.opts.host, " (any port)");
  } else {
    if (!s.http.bind_to_port(s.opts.host, s.opts.port))
      fail("cannot listen on ", s.opts.host, ":", s.opts.port, " (in use, or not an address of this machine)");
    s.bound_port = s.opts.port;
  }
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
}

int Server::port() const { return impl_->bound_port; }

void Server::set_engine(std::shared_ptr<const Engine> engine) {
  Impl& s = *impl_;
  std::lock_guard lock(s.mu);
  s.engine = std::move(engine);
  s.judge = std::make_unique<judge::LocalBackend>(s.engine);
  s.max_admitted = s.opts.max_requests > 0 ? s.opts.max_requests : 8 * s.engine->max_sequences();
  s.cx.reset(new Context{s.opts, s.engine, *s.judge, s.metrics, s.inflight,
                         s.opts.model_name.empty() ? s.engine->model_id() : s.opts.model_name});
}

void Server::shutdown() {
  Impl& s = *impl_;
  {
    std::unique_lock lock(s.mu);
    if (s.draining) return;
    s.draining = true;
    const auto grace = std::chrono::duration<double>(s.opts.shutdown_grace);
    if (!s.cv.wait_for(lock, grace, [&] { return s.admitted == 0; })) {
      lock.unlock();
      s.inflight.cancel_all();
      lock.lock();
      s.cv.wait_for(lock, std::chrono::seconds(10), [&] { return s.admitted == 0; });
    }
  }
  s.http.stop();
}

void Server::wait() {
  if (impl_->listener.joinable()) impl_->listener.join();
}

}  // namespace fare::server
