#include "common/error.h"

#include <cstdio>
#include <cstdlib>

namespace fare {

void check_failed(const char* file, int line, const char* expr, const std::string& msg) {
  std::fprintf(stderr, "fare: internal error at %s:%d: CHECK(%s) failed%s%s\n", file, line, expr,
               msg.empty() ? "" : ": ", msg.c_str());
  std::abort();
}

}  // namespace fare
