// For the crash and disk-fault tests: running `fare` as a child process that the test can kill
// or constrain, reading a results file strictly, and a tmpfs of a chosen size where the test
// runs as root.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "test_util.h"

namespace fare::judge::testing {

// Starts `fare args...` in `dir` with stdout and stderr in dir/stdout.txt and dir/stderr.txt.
// fsize_limit: RLIMIT_FSIZE for the child, with SIGXFSZ ignored so that a write past it fails
// with EFBIG instead of killing the process.
inline pid_t spawn_fare(const std::vector<std::string>& args, const std::filesystem::path& dir,
                        std::optional<rlim_t> fsize_limit = std::nullopt) {
  const std::string out = (dir / "stdout.txt").string(), err = (dir / "stderr.txt").string();
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(FARE_CLI_PATH));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid != 0) return pid;
  // The child: only async-signal-safe calls until exec.
  if (chdir(dir.c_str()) != 0) _exit(126);
  const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0 || err_fd < 0) _exit(126);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  if (fsize_limit) {
    signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec
    const rlimit lim{*fsize_limit, *fsize_limit};
    if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(126);
  }
  execv(argv[0], argv.data());
  _exit(127);
}

struct ChildEnd {
  bool killed = false;  // ended by a signal
  int exit_code = -1;   // when it exited
};

inline ChildEnd wait_child(pid_t pid) {
  int status = 0;
  ChildEnd end;
  if (waitpid(pid, &status, 0) != pid) return end;
  end.killed = WIFSIGNALED(status);
  if (WIFEXITED(status)) end.exit_code = WEXITSTATUS(status);
  return end;
}

// Runs to the end; the exit code, with stderr for messages.
inline ChildEnd run_fare(const std::vector<std::string>& args, const std::filesystem::path& dir,
                         std::optional<rlim_t> fsize_limit = std::nullopt) {
  return wait_child(spawn_fare(args, dir, fsize_limit));
}

// A results file read strictly: the whole lines, each a JSON object, and whatever follows the
// last newline (a torn line a kill may leave; resuming cuts it off).
struct ResultsText {
  std::vector<nlohmann::json> records;
  std::string torn_tail;
  bool all_lines_parse = true;
};

inline ResultsText read_results(const std::filesystem::path& path) {
  ResultsText r;
  if (!std::filesystem::exists(path)) return r;
  const std::string text = read_file(path.string());
  size_t pos = 0;
  for (size_t eol; (eol = text.find('\n', pos)) != std::string::npos; pos = eol + 1) {
    try {
      r.records.push_back(nlohmann::json::parse(text.substr(pos, eol - pos)));
    } catch (const nlohmann::json::exception&) {
      r.all_lines_parse = false;
    }
  }
  r.torn_tail = text.substr(pos);
  return r;
}

// Records by key, without the fields that measure time: what two runs must agree on.
inline std::map<std::string, nlohmann::json> by_key(const std::vector<nlohmann::json>& records) {
  std::map<std::string, nlohmann::json> out;
  for (nlohmann::json r : records) {
    r.erase("seconds");
    out.emplace(r.at("key").get<std::string>(), std::move(r));
  }
  return out;
}

// A tmpfs mounted on `dir` (it needs root with CAP_SYS_ADMIN); unmounted when destroyed.
class Tmpfs {
 public:
  // nullptr, with the reason in `why_not`, where mounting is not allowed.
  static std::unique_ptr<Tmpfs> mount_on(const std::filesystem::path& dir, size_t bytes, std::string& why_not) {
    std::filesystem::create_directories(dir);
    const std::string opts = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
      why_not = std::string("mount -t tmpfs: ") + std::strerror(errno);
      return nullptr;
    }
    return std::unique_ptr<Tmpfs>(new Tmpfs(dir));
  }
  ~Tmpfs() { detach_stale(dir_); }
  static void detach_stale(const std::filesystem::path& dir) { ::umount2(dir.c_str(), MNT_DETACH); }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool resize(size_t bytes) {
    const std::string opts = "size=" + std::to_string(bytes);
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, opts.c_str()) == 0;
  }
  bool make_read_only() {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0;
  }

 private:
  explicit Tmpfs(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

}  // namespace fare::judge::testing
