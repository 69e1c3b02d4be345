// Progress of an evaluation: a redrawn bar with ETA and tokens/s on a terminal, plain lines at an
// interval otherwise (logs and CI keep every line).
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

namespace fare::judge {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  // `out` may be null (silent). `total` counts the judgments this run will make.
  // `load`, when set, adds a note on the backend's load to each line (JudgeBackend::load).
  Progress(std::ostream* out, bool tty, size_t total, double interval_s = 30.0, std::function<std::string()> load = {});

  void advance(int completion_tokens, bool invalid, Clock::time_point now = Clock::now());
  void finish(Clock::time_point now = Clock::now());

  // The status text, e.g. "[#####-----] 50/100 50% ETA 1m40s 42.1 tok/s 3 invalid".
  std::string status(Clock::time_point now) const;

 private:
  std::ostream* out_;
  bool tty_;
  size_t total_;
  double interval_s_;
  size_t done_ = 0;
  size_t invalid_ = 0;
  long tokens_ = 0;
  Clock::time_point start_;
  Clock::time_point last_print_;
  std::function<std::string()> load_;
};

std::string format_duration(double seconds);  // "45s", "3m20s", "2h05m"

}  // namespace fare::judge
