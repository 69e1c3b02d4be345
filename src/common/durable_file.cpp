#include "common/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/error.h"

namespace fare {

int write_all(int fd, std::string_view data, size_t& written) {
  written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<size_t>(n);
  }
  return 0;
}

void sync_parent_folder(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(dir, ": cannot open the folder to sync it: ", std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) fail(dir, ": fsync of the folder failed: ", std::strerror(err));
}

namespace {

// Writes and syncs the temporary file; returns an empty string or what went wrong.
std::string write_temporary(const std::string& tmp, std::string_view data) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return cat(tmp, ": cannot create: ", std::strerror(errno));
  size_t written = 0;
  std::string problem;
  if (const int err = write_all(fd, data, written); err != 0) {
    problem = cat(tmp, ": write failed after ", written, " of ", data.size(), " bytes: ", std::strerror(err));
  } else if (::fsync(fd) != 0) {
    problem = cat(tmp, ": fsync failed: ", std::strerror(errno));
  }
  if (::close(fd) != 0 && problem.empty()) problem = cat(tmp, ": close failed: ", std::strerror(errno));
  return problem;
}

}  // namespace

void replace_file_durably(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  std::string problem = write_temporary(tmp, data);
  if (problem.empty() && std::rename(tmp.c_str(), path.c_str()) != 0)
    problem = cat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
  if (!problem.empty()) {
    ::unlink(tmp.c_str());  // may not exist; the old file is what matters and it is untouched
    fail(problem, "; ", path, " is unchanged");
  }
  sync_parent_folder(path);
}

}  // namespace fare
