#include "support/run_command.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace fare::test {

CommandRun run_command(const std::string& command_line) {
  CommandRun r;
  FILE* p = ::popen(command_line.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace fare::test
