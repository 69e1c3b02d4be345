#include "judge/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace fare::judge {

namespace {
constexpr int kBarWidth = 24;
}

std::string format_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

Progress::Progress(std::ostream* out, bool tty, size_t total, double interval_s, std::function<std::string()> load)
    : out_(out),
      tty_(tty),
      total_(total),
      interval_s_(interval_s),
      start_(Clock::now()),
      last_print_(start_),
      load_(std::move(load)) {}

std::string Progress::status(Clock::time_point now) const {
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  std::string s;
  if (tty_) {
    int filled = static_cast<int>(frac * kBarWidth);
    s += '[';
    s.append(static_cast<size_t>(filled), '#');
    s.append(static_cast<size_t>(kBarWidth - filled), '-');
    s += "] ";
  }
  s += cat(done_, "/", total_, " ", std::lround(frac * 100), "%");
  if (done_ > 0 && done_ < total_ && elapsed > 0)
    s += " ETA " + format_duration(elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_));
  else
    s += " elapsed " + format_duration(elapsed);
  if (elapsed > 0) {
    char rate[32];
    std::snprintf(rate, sizeof rate, " %.1f tok/s", static_cast<double>(tokens_) / elapsed);
    s += rate;
  }
  if (invalid_) s += cat(" ", invalid_, " invalid");
  if (load_)
    if (const std::string l = load_(); !l.empty()) s += " | " + l;
  return s;
}

void Progress::advance(int completion_tokens, bool invalid, Clock::time_point now) {
  ++done_;
  tokens_ += completion_tokens;
  invalid_ += invalid;
  if (!out_) return;
  if (tty_) {
    *out_ << "\r" << status(now) << "\033[K" << std::flush;
  } else if (std::chrono::duration<double>(now - last_print_).count() >= interval_s_) {
    *out_ << "progress: " << status(now) << "\n" << std::flush;
    last_print_ = now;
  }
}

void Progress::finish(Clock::time_point now) {
  if (!out_) return;
  if (tty_)
    *out_ << "\r" << status(now) << "\033[K\n" << std::flush;
  else
    *out_ << "progress: " << status(now) << "\n" << std::flush;
}

}  // namespace fare::judge
