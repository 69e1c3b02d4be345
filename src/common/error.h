// Two error tiers: bad input raises fare::Error with context (turned into an exit code or an
// HTTP 4xx at the boundary); a broken invariant is a FARE_CHECK failure naming file:line.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace fare {

// Concatenates anything streamable; the project's one string-formatting helper.
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

// Bad input: a file, a request, a dataset line. The message says what, where, expected vs actual.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(cat(std::forward<Args>(args)...));
}

[[noreturn]] void check_failed(const char* file, int line, const char* expr, const std::string& msg);

}  // namespace fare

// Always on, also in release builds: these guard invariants, never input.
#define FARE_CHECK(cond, ...)                                                        \
  do {                                                                               \
    if (!(cond)) ::fare::check_failed(__FILE__, __LINE__, #cond, ::fare::cat("" __VA_OPT__(, ) __VA_ARGS__)); \
  } while (0)
