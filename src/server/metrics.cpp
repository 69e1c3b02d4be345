#include "server/metrics.h"

#include <cstdio>

#include "common/error.h"

namespace fare::server {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Label values escaped as the text format requires.
std::string label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void family(std::string& out, const std::string& name, const char* type, const char* help) {
  out += cat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// vLLM's buckets, so that quantiles compare across servers.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                                          1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kE2eBuckets = {0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,  15.0, 20.0,
                                         30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const std::vector<double> kLengthBuckets = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

std::string Histogram::render(const std::string& name, const std::string& labels) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? num(bounds_[i]) : "+Inf";
    out += cat(name, "_bucket{", labels, ",le=\"", le, "\"} ", cumulative, "\n");
  }
  out += cat(name, "_sum{", labels, "} ", num(sum_), "\n", name, "_count{", labels, "} ", count_, "\n");
  return out;
}

ServerMetrics::ServerMetrics()
    : ttft_(kTtftBuckets), e2e_(kE2eBuckets), prompt_len_(kLengthBuckets), generation_len_(kLengthBuckets) {}

void ServerMetrics::request_done(const std::string& finish_reason, double ttft_seconds, double e2e_seconds,
                                 int prompt_tokens, int generated_tokens) {
  std::lock_guard lock(mu_);
  ++finished_[finish_reason];
  ttft_.observe(ttft_seconds);
  e2e_.observe(e2e_seconds);
  prompt_len_.observe(prompt_tokens);
  generation_len_.observe(generated_tokens);
}

void ServerMetrics::request_failed() {
  std::lock_guard lock(mu_);
  ++failed_;
}

void ServerMetrics::refused(int status) {
  std::lock_guard lock(mu_);
  ++refused_[status];
}

void ServerMetrics::judgment(const std::string& task, bool valid, const std::string& invalid_reason) {
  std::lock_guard lock(mu_);
  ++judgments_[task];
  if (!valid) ++invalid_[{task, invalid_reason.empty() ? "unknown" : invalid_reason}];
}

std::string ServerMetrics::render(const std::string& model_name, const EngineStats& st) const {
  std::lock_guard lock(mu_);
  const std::string m = cat("model_name=\"", label_value(model_name), "\"");
  std::string out;
  auto gauge = [&](const std::string& name, const char* help, double v) {
    family(out, name, "gauge", help);
    out += cat(name, "{", m, "} ", num(v), "\n");
  };
  auto counter = [&](const std::string& name, const char* help, double v) {
    family(out, name, "counter", help);
    out += cat(name, "{", m, "} ", num(v), "\n");
  };
  gauge("vllm:num_requests_running", "Sequences in the running batch.", st.running);
  gauge("vllm:num_requests_waiting", "Sequences waiting to start.", st.waiting);
  gauge("vllm:kv_cache_usage_perc", "Fraction of KV cache blocks in use (1 = full).",
        st.kv_blocks ? static_cast<double>(st.kv_blocks_used) / static_cast<double>(st.kv_blocks) : 0.0);
  counter("vllm:prompt_tokens_total", "Prompt tokens processed (computed or served from the prefix cache).",
          static_cast<double>(st.prompt_tokens_computed + st.prompt_tokens_cached));
  counter("vllm:generation_tokens_total", "Generated tokens.", static_cast<double>(st.generated_tokens));
  counter("vllm:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
          static_cast<double>(st.prompt_tokens_computed + st.prompt_tokens_cached));
  counter("vllm:prefix_cache_hits_total", "Prompt tokens served from the prefix cache.",
          static_cast<double>(st.prompt_tokens_cached));
  counter("vllm:num_preemptions_total", "Times a sequence gave back its KV blocks to be recomputed later.",
          static_cast<double>(st.preemptions));

  family(out, "vllm:request_success_total", "counter", "Finished requests by finish reason.");
  for (const auto& [reason, n] : finished_)
    out += cat("vllm:request_success_total{", m, ",finished_reason=\"", label_value(reason), "\"} ", n, "\n");
  family(out, "vllm:time_to_first_token_seconds", "histogram", "Time to first token.");
  out += ttft_.render("vllm:time_to_first_token_seconds", m);
  family(out, "vllm:e2e_request_latency_seconds", "histogram", "End-to-end request latency.");
  out += e2e_.render("vllm:e2e_request_latency_seconds", m);
  family(out, "vllm:request_prompt_tokens", "histogram", "Prompt tokens per request.");
  out += prompt_len_.render("vllm:request_prompt_tokens", m);
  family(out, "vllm:request_generation_tokens", "histogram", "Generated tokens per request.");
  out += generation_len_.render("vllm:request_generation_tokens", m);

  family(out, "fare_requests_refused_total", "counter", "Requests refused before any work, by HTTP status.");
  for (const auto& [status, n] : refused_) out += cat("fare_requests_refused_total{", m, ",status=\"", status, "\"} ", n, "\n");
  counter("fare_requests_failed_total", "Accepted requests that ended in an error.", static_cast<double>(failed_));
  family(out, "fare_judgments_total", "counter", "Judgments made, by task.");
  for (const auto& [task, n] : judgments_) out += cat("fare_judgments_total{", m, ",task=\"", task, "\"} ", n, "\n");
  family(out, "fare_invalid_judgments_total", "counter", "Judgments without a valid verdict, by task and reason.");
  for (const auto& [key, n] : invalid_)
    out += cat("fare_invalid_judgments_total{", m, ",task=\"", key.first, "\",reason=\"", label_value(key.second), "\"} ", n,
               "\n");
  return out;
}

}  // namespace fare::server
