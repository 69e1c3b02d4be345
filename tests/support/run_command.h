// Test support: running a shell command line (the `fare` executable, as scripts use it).
#pragma once

#include <string>

namespace fare::test {

struct CommandRun {
  int exit_code = -1;  // -1: the command did not exit normally, or could not start
  std::string out;     // what it wrote to stdout (append " 2>&1" to the command for stderr too)
};

CommandRun run_command(const std::string& command_line);

}  // namespace fare::test
