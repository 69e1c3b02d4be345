// GET /metrics: Prometheus text with vLLM's metric names (dashboards and autoscalers built for
// vLLM read them unchanged) plus fare's own verdict counters. Token and cache counts come from
// the engine's scheduler; latencies and finish reasons are recorded per request by the server.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace fare::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // Prometheus lines: NAME_bucket{labels,le=...}, NAME_sum, NAME_count.
  std::string render(const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more for +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void request_done(const std::string& finish_reason, double ttft_seconds, double e2e_seconds, int prompt_tokens,
                    int generated_tokens);
  void request_failed();  // answered with an error after it was accepted
  void refused(int status);  // 429, 503 before any work
  void judgment(const std::string& task, bool valid, const std::string& invalid_reason);

  std::string render(const std::string& model_name, const EngineStats& engine) const;

 private:
  mutable std::mutex mu_;
  Histogram ttft_, e2e_, prompt_len_, generation_len_;
  std::map<std::string, uint64_t> finished_;               // by finish reason
  std::map<int, uint64_t> refused_;                        // by status
  uint64_t failed_ = 0;
  std::map<std::string, uint64_t> judgments_;               // by task
  std::map<std::pair<std::string, std::string>, uint64_t> invalid_;  // by task, reason
};

}  // namespace fare::server
