#include "judge/results_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/durable_file.h"
#include "common/error.h"

namespace fare::judge {

ExistingResults open_results(const std::string& path) {
  ExistingResults out;
  if (!std::filesystem::exists(path)) return out;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, ": cannot read the existing results file");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    ++line_no;
    std::string where = cat(path, ":", line_no);
    bool last = eol == std::string::npos || eol + 1 >= text.size();
    std::string reason;
    if (eol == std::string::npos) {
      reason = "no newline at its end";
    } else {
      try {
        out.judgments.push_back(judgment_from_json(nlohmann::json::parse(text.substr(pos, eol - pos)), where));
        ++out.n_lines;
        pos = eol + 1;
        continue;
      } catch (const std::exception& e) {
        reason = e.what();
      }
    }
    if (!last)
      fail(where, ": not a judgment record (", reason, "); the file is damaged before its last line, so it is left ",
           "as it is: move it away or repair it");
    if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0)
      fail(path, ": cannot cut off its torn last line (line ", line_no, "): ", std::strerror(errno),
           "; the file is left as it is");
    out.repaired = true;
    out.repair_note = cat("line ", line_no, " was torn (", reason, "); cut it off to redo it");
    break;
  }
  return out;
}

std::vector<Judgment> read_results(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, ": cannot open the results file");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<Judgment> out;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    ++line_no;
    std::string where = cat(path, ":", line_no);
    if (eol == std::string::npos)
      fail(where, ": the last line has no newline: the run was interrupted while writing it; run the same ",
           "`fare eval` again to redo it, or delete the line");
    std::string line = text.substr(pos, eol - pos);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      fail(where, ": not a JSON line (", e.what(), ")");
    }
    out.push_back(judgment_from_json(record, where));
    pos = eol + 1;
  }
  if (out.empty()) fail(path, ": holds no judgment");
  return out;
}

ResultsWriter::ResultsWriter(const std::string& path) : path_(path) {
  // `-o runs/today/jb.jsonl` should just work: make the folders it names.
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir.string(), ": cannot create the output folder: ", ec.message());
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path, ": cannot open for writing: ", std::strerror(errno));
  // A file just created is durable only once its folder entry is.
  sync_parent_folder(path);
}

ResultsWriter::~ResultsWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void ResultsWriter::append(const Judgment& j) {
  std::string line = judgment_to_json(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  // After a failed write nothing more goes in: a line behind a torn one would damage the file
  // beyond what resuming repairs.
  if (!broken_.empty()) fail(broken_);
  const off_t start = ::lseek(fd_, 0, SEEK_END);
  size_t written = 0;
  if (const int err = write_all(fd_, line, written); err != 0) {
    // Take the part line back out (a full disk still allows shrinking a file), so that the file
    // holds only whole judgments; if that fails too, resuming cuts it off.
    const bool rolled_back = start >= 0 && ::ftruncate(fd_, start) == 0;
    broken_ = cat(path_, ": cannot append the judgment of ", j.item_id, " (", written, " of ", line.size(),
                  " bytes written): ", std::strerror(err), "; ",
                  rolled_back ? "the part line was removed and" : "a part line may remain, which resuming cuts off;",
                  " every judgment written before it is kept");
    fail(broken_);
  }
  if (::fsync(fd_) != 0) {
    broken_ = cat(path_, ": fsync failed after the judgment of ", j.item_id, ": ", std::strerror(errno));
    fail(broken_);
  }
}

}  // namespace fare::judge
