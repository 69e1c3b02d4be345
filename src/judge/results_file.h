// The results JSONL: one judgment per line, appended and fsynced as each finishes, so that a crash
// loses at most the line being written. Reopening it finds what is done and repairs a torn tail.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "judge/judgment.h"

namespace fare::judge {

struct ExistingResults {
  std::vector<Judgment> judgments;  // in file order
  size_t n_lines = 0;               // complete lines kept
  bool repaired = false;            // a torn last line was cut off
  std::string repair_note;          // what was cut and why
};

// Reads `path` if it exists. A last line without its newline, or one that is not a complete
// judgment, is truncated away (it is redone). A bad line anywhere else is a fare::Error: that is
// damage this program did not cause, and guessing could lose work.
ExistingResults open_results(const std::string& path);

// Reads a results file without changing it, for reports: every line must be a whole judgment. A
// torn last line (an interrupted run) is an error that says how to repair it, as is a missing or
// empty file.
std::vector<Judgment> read_results(const std::string& path);

class ResultsWriter {
 public:
  explicit ResultsWriter(const std::string& path);  // appends; creates the file if needed
  ~ResultsWriter();
  ResultsWriter(const ResultsWriter&) = delete;
  ResultsWriter& operator=(const ResultsWriter&) = delete;

  // One line, written whole and fsynced before returning. Safe from several threads. A failed
  // write (full disk) removes its part line and throws; every later append throws the same error.
  void append(const Judgment& j);

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mu_;
  std::string broken_;  // the first failure; empty while writes succeed
};

}  // namespace fare::judge
