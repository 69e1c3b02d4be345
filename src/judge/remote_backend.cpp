#include "judge/remote_backend.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "common/error.h"
#include "judge/openai_wire.h"

namespace fare::judge {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kHttp = "http://";
constexpr std::string_view kHttps = "https://";

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\n");
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\n") - b + 1));
}

std::chrono::microseconds to_duration(double seconds) {
  return std::chrono::microseconds(static_cast<int64_t>(std::max(0.0, seconds) * 1e6));
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 10 && s != std::floor(s) ? "%.1f" : "%.0f", s);
  return buf;
}

struct Endpoint {
  std::string url;        // normalised: no trailing slash, API root path included
  std::string origin;     // scheme://host[:port], what httplib connects to
  std::string base_path;  // "/v1"
  std::string label;      // host[:port], for progress lines
  // The rest is guarded by State::mu.
  int consecutive_failures = 0;
  Clock::time_point set_aside_until{};
  double next_cool_down_s = 0;
  EndpointStats stats;
};

Endpoint parse_endpoint(const std::string& url_in, const RemoteOptions& opts) {
  const std::string url = trim(url_in);
  std::string_view rest = url;
  std::string scheme;
  if (rest.starts_with(kHttp)) scheme = "http";
  else if (rest.starts_with(kHttps)) scheme = "https";
  else fail("'", url, "' is not a server URL: expected http://HOST:PORT/v1 or https://...");
  rest.remove_prefix(scheme.size() + 3);
  const size_t slash = rest.find('/');
  const std::string authority(rest.substr(0, slash));
  std::string path(slash == std::string_view::npos ? "" : rest.substr(slash));
  if (authority.empty()) fail("'", url, "': no host after ", scheme, "://");
  if (authority.find_first_of("@?#") != std::string::npos || path.find_first_of("?#") != std::string::npos)
    fail("'", url, "': expected only a host, a port and a path (no user, query or fragment)");
  if (const size_t colon = authority.rfind(':'); colon != std::string::npos && authority.back() != ']') {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) == 0 || std::stoi(port) > 65535)
      fail("'", url, "': port '", port, "' is not a number from 1 to 65535");
  }
  while (path.ends_with('/')) path.pop_back();
  if (path.empty()) path = "/v1";
  Endpoint ep;
  ep.origin = scheme + "://" + authority;
  ep.base_path = path;
  ep.url = ep.origin + path;
  ep.label = authority;
  ep.next_cool_down_s = opts.set_aside_s;
  ep.stats.url = ep.url;
  return ep;
}

// What the server's error text says about the request: only a prompt (plus max_tokens) too long
// for the context is the request's own fault; anything else a 4xx says would be said of every
// request, so the run stops instead of recording it as this item's verdict.
bool says_too_long(std::string_view message) {
  std::string m(message);
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view phrase : {"context length", "context size", "context window", "maximum context",
                                  "exceed_context", "too long", "reduce the length", "no room"})
    if (m.find(phrase) != std::string::npos) return true;
  return false;
}

enum class Outcome { kAnswered, kRetry, kTooLong, kStop };

// One HTTP exchange, classified.
struct Exchange {
  Outcome outcome = Outcome::kStop;
  json body;                            // kAnswered
  std::string what;                     // what went wrong, for messages
  std::optional<double> retry_after_s;  // the server's Retry-After, in seconds
  bool endpoint_fault = false;          // counts toward setting the endpoint aside
};

std::optional<double> parse_retry_after(const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789. ") != std::string::npos) return std::nullopt;  // dates: ignored
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Exchange classify_status(int status, const std::string& body, const Endpoint& ep, const std::string& path) {
  Exchange x;
  const std::string msg = openai::error_message(body);
  x.what = cat(ep.origin, path, ": HTTP ", status, ": ", msg);
  if (status == 408 || status == 429 || status >= 500) {
    x.outcome = Outcome::kRetry;
    x.endpoint_fault = status != 429;  // a busy server is not a broken one
  } else if ((status == 400 || status == 413 || status == 422) && says_too_long(msg)) {
    x.outcome = Outcome::kTooLong;
    x.what = cat(ep.url, " refused the request (HTTP ", status, "): ", msg);
  } else if (status == 401 || status == 403) {
    x.what += "; the server wants an API key: set FARE_API_KEY (or OPENAI_API_KEY) to it";
  } else if (status == 404) {
    x.what += "; check that the URL ends in the API root (usually /v1) and the model name (--remote-model)";
  } else if (status >= 400) {
    x.what += "; the server refuses fare's requests, so every judgment would fail alike";
  } else {
    x.what += "; expected an answer with status 200";
  }
  return x;
}

std::string transport_error(httplib::Error err) {
  switch (err) {
    case httplib::Error::Connection: return "cannot connect (refused, unreachable or unknown host)";
    case httplib::Error::ConnectionTimeout: return "connecting timed out";
    case httplib::Error::Read: return "the connection broke before the whole answer came";
    case httplib::Error::Write: return "the connection broke while sending the request";
    case httplib::Error::SSLConnection: return "the TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate did not verify";
    default: return cat("HTTP client error: ", httplib::to_string(err));
  }
}

Exchange http_exchange(const Endpoint& ep, const std::string& suffix, const std::string* body,
                       const RemoteOptions& opts) {
  // A fresh client per request: httplib's Client must not be used by two threads at once, and a
  // new connection costs nothing next to a generation.
  httplib::Client cli(ep.origin);
  Exchange x;
  const std::string path = ep.base_path + suffix;
  if (!cli.is_valid()) {
    x.what = cat(ep.url, ": cannot make an HTTP client for ", ep.origin);
    return x;
  }
  cli.set_keep_alive(false);
  cli.set_connection_timeout(to_duration(std::min(opts.connect_timeout_s, opts.request_timeout_s)));
  cli.set_read_timeout(to_duration(opts.request_timeout_s));
  cli.set_write_timeout(to_duration(opts.request_timeout_s));
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!opts.api_key.empty()) headers.emplace("Authorization", "Bearer " + opts.api_key);

  const auto t0 = Clock::now();
  httplib::Result res = body ? cli.Post(path, headers, *body, "application/json") : cli.Get(path, headers);
  if (!res) {
    const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    const httplib::Error err = res.error();
    x.outcome = Outcome::kRetry;
    x.endpoint_fault = true;
    if (err == httplib::Error::Read && waited >= 0.9 * opts.request_timeout_s)
      x.what = cat(ep.origin, path, ": no answer within ", seconds_text(opts.request_timeout_s), " s (--request-timeout)");
    else
      x.what = cat(ep.origin, path, ": ", transport_error(err), " after ", seconds_text(waited), " s");
    return x;
  }
  if (res->status < 200 || res->status > 299) {
    x = classify_status(res->status, res->body, ep, path);
    if (res->has_header("Retry-After")) x.retry_after_s = parse_retry_after(res->get_header_value("Retry-After"));
    return x;
  }
  x.body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (x.body.is_discarded()) {
    // A cut or garbled body (a proxy, a server dying mid-answer): worth another try.
    x.outcome = Outcome::kRetry;
    x.endpoint_fault = true;
    x.what = cat(ep.origin, path, ": HTTP ", res->status, " but the body is not JSON: ", openai::error_message(res->body, 120));
    return x;
  }
  x.outcome = Outcome::kAnswered;
  return x;
}

}  // namespace

struct RemoteBackend::State {
  RemoteOptions opts;
  std::vector<Endpoint> endpoints;  // fixed after open(); their counters under mu
  mutable std::mutex mu;
  std::mt19937_64 rng{std::random_device{}()};
  int64_t retries = 0;
  int64_t steps_dropped = 0;

  // The endpoint for the next try: healthy, fewest in flight, then fewest sent; `avoid` (the one
  // that just failed) only when no other is healthy. When all are set aside, waits for the first
  // cool-down to end.
  size_t acquire(size_t avoid) {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      const auto now = Clock::now();
      size_t best = endpoints.size();
      auto better = [&](size_t i) {
        if (best == endpoints.size()) return true;
        const EndpointStats &a = endpoints[i].stats, &b = endpoints[best].stats;
        if ((i == avoid) != (best == avoid)) return best == avoid;
        return a.in_flight != b.in_flight ? a.in_flight < b.in_flight : a.sent < b.sent;
      };
      for (size_t i = 0; i < endpoints.size(); ++i)
        if (endpoints[i].set_aside_until <= now && better(i)) best = i;
      if (best < endpoints.size()) {
        Endpoint& ep = endpoints[best];
        ep.stats.in_flight++;
        ep.stats.sent++;
        return best;
      }
      auto first = std::min_element(endpoints.begin(), endpoints.end(), [](const Endpoint& a, const Endpoint& b) {
        return a.set_aside_until < b.set_aside_until;
      });
      const auto until = first->set_aside_until;
      lock.unlock();
      std::this_thread::sleep_until(until);
      lock.lock();
    }
  }

  void release(size_t i, const Exchange& x) {
    std::lock_guard<std::mutex> lock(mu);
    Endpoint& ep = endpoints[i];
    ep.stats.in_flight--;
    switch (x.outcome) {
      case Outcome::kAnswered: ep.stats.answered++; break;
      case Outcome::kTooLong: ep.stats.rejected++; break;
      case Outcome::kRetry: ep.stats.failed++; break;
      case Outcome::kStop: break;
    }
    if (!x.endpoint_fault) {
      if (x.outcome != Outcome::kRetry) {
        ep.consecutive_failures = 0;
        ep.next_cool_down_s = opts.set_aside_s;
      }
      return;
    }
    if (++ep.consecutive_failures >= opts.failures_to_set_aside) {
      ep.set_aside_until = Clock::now() + to_duration(ep.next_cool_down_s);
      ep.next_cool_down_s = std::min(2 * ep.next_cool_down_s, opts.set_aside_max_s);
      ep.stats.set_aside++;
    }
  }

  // Full jitter: uniform(0, min(cap, base * 2^k)); the server's Retry-After when it sent one
  // (capped at the request timeout).
  double backoff_s(int k, std::optional<double> retry_after) {
    if (retry_after) return std::min(*retry_after, opts.request_timeout_s);
    const double ceiling = std::min(opts.backoff_cap_s, opts.backoff_base_s * std::ldexp(1.0, std::min(k, 30)));
    std::lock_guard<std::mutex> lock(mu);
    return std::uniform_real_distribution<double>(0, ceiling)(rng);
  }

  // Sends until an endpoint answers 2xx with JSON; throws RequestRejected for a prompt too long,
  // fare::Error for a refusal that would hit every request or when the retries run out.
  json exchange(const std::string& suffix, const std::string* body) {
    size_t last = endpoints.size();
    std::vector<std::string> tried;
    for (int attempt = 0;; ++attempt) {
      const size_t i = acquire(last);
      const Endpoint& ep = endpoints[i];
      if (std::find(tried.begin(), tried.end(), ep.url) == tried.end()) tried.push_back(ep.url);
      Exchange x = http_exchange(ep, suffix, body, opts);
      release(i, x);
      switch (x.outcome) {
        case Outcome::kAnswered: return std::move(x.body);
        case Outcome::kTooLong: throw RequestRejected(x.what);
        case Outcome::kStop: throw Error(x.what);
        case Outcome::kRetry: break;
      }
      if (attempt >= opts.retries) {
        std::string where;
        for (const std::string& u : tried) where += cat(where.empty() ? "" : ", ", u);
        fail("a request failed ", attempt + 1, " times (1 try and ", opts.retries, opts.retries == 1 ? " retry" : " retries",
             ", --retries) on ", where,
             "; the last: ", x.what, ". Nothing was recorded for it");
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        retries++;
        endpoints[i].stats.retried++;
      }
      std::this_thread::sleep_for(to_duration(backoff_s(attempt, x.retry_after_s)));
      last = i;
    }
  }
};

RemoteBackend::RemoteBackend(std::unique_ptr<State> state, std::string model)
    : state_(std::move(state)), model_(std::move(model)) {}
RemoteBackend::~RemoteBackend() = default;

std::unique_ptr<RemoteBackend> RemoteBackend::open(const std::string& spec, const RemoteOptions& opts) {
  if (!(opts.request_timeout_s > 0)) fail("--request-timeout must be more than 0 seconds");
  if (opts.retries < 0) fail("--retries must be 0 or more");
  auto state = std::make_unique<State>();
  state->opts = opts;
  size_t pos = 0;
  for (;;) {
    const size_t comma = spec.find(',', pos);
    const std::string url = trim(spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (url.empty()) fail("'", spec, "': an empty URL in the list");
    Endpoint ep = parse_endpoint(url, opts);
    for (const Endpoint& other : state->endpoints)
      if (other.url == ep.url) fail("'", spec, "' names ", ep.url, " twice");
    state->endpoints.push_back(std::move(ep));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::string model = opts.model;
  if (model.empty()) {
    json list;
    try {
      list = state->exchange("/models", nullptr);
    } catch (const Error& e) {
      fail("cannot learn the model name from the servers (give it with --remote-model NAME): ", e.what());
    }
    try {
      model = openai::parse_model_ids(list).front();
    } catch (const Error& e) {
      fail("GET ", state->endpoints.front().base_path, "/models answered with something that is not a model list (",
           e.what(), "); give the model name with --remote-model NAME");
    }
  }
  return std::unique_ptr<RemoteBackend>(new RemoteBackend(std::move(state), std::move(model)));
}

JudgeCompletion RemoteBackend::complete(const JudgeRequest& req) {
  const std::string body =
      openai::chat_request(req, model_).dump(-1, ' ', false, json::error_handler_t::replace);
  const auto t0 = Clock::now();
  json answer = state_->exchange("/chat/completions", &body);
  openai::ChatResponse r;
  try {
    r = openai::parse_chat_response(answer);
  } catch (const Error& e) {
    fail("a server answered POST /chat/completions with something that is not a chat completion: ", e.what());
  }
  if (r.steps_dropped) {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->steps_dropped++;
  }
  r.completion.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return std::move(r.completion);
}

std::string RemoteBackend::setup() const {
  const RemoteOptions& o = state_->opts;
  std::string urls;
  for (const Endpoint& ep : state_->endpoints) urls += cat(urls.empty() ? "" : ", ", ep.url);
  return cat("remote model ", model_, " at ", urls, "; ", seconds_text(o.request_timeout_s),
             " s per request, up to ", o.retries, " retries", o.api_key.empty() ? "" : ", API key set");
}

std::string RemoteBackend::load() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::string s;
  const auto now = Clock::now();
  for (const Endpoint& ep : state_->endpoints) {
    s += cat(s.empty() ? "in flight " : ", ", ep.stats.in_flight, " at ", ep.label);
    if (ep.set_aside_until > now)
      s += cat(" (set aside ", seconds_text(std::chrono::duration<double>(ep.set_aside_until - now).count()), " s)");
  }
  if (state_->retries) s += cat(", ", state_->retries, " retries");
  return s;
}

std::string RemoteBackend::summary() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::string s = cat("remote: ", state_->retries, " retries");
  for (const Endpoint& ep : state_->endpoints) {
    const EndpointStats& st = ep.stats;
    s += cat("; ", ep.url, ": ", st.answered, " answered");
    if (st.rejected) s += cat(", ", st.rejected, " refused as too long");
    if (st.failed) s += cat(", ", st.failed, " failed");
    if (st.set_aside) s += cat(", set aside ", st.set_aside, st.set_aside == 1 ? " time" : " times");
  }
  if (state_->steps_dropped)
    s += cat("; log-probabilities of ", state_->steps_dropped,
             " answers left out (their tokens did not line up with the text)");
  return s;
}

std::vector<EndpointStats> RemoteBackend::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<EndpointStats> out;
  const auto now = Clock::now();
  for (const Endpoint& ep : state_->endpoints) {
    out.push_back(ep.stats);
    out.back().healthy = ep.set_aside_until <= now;
  }
  return out;
}

int64_t RemoteBackend::steps_dropped() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->steps_dropped;
}

}  // namespace fare::judge
