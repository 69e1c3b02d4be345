// A results file on resume (judge/results_file.h): the input is the file's bytes. open_results
// (which cuts off a torn last line), read_results, and judgment_from_json on each line that parses.
// Checked besides the error rule: what open_results keeps is a prefix of whole lines, its
// judgments are those read_results reads from that prefix, and a judgment written back as JSON
// reads back the same (judgment_to_json is the line format).
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "judge/judgment.h"
#include "judge/results_file.h"

namespace {

using namespace fare::judge;
using fare::fuzz::expect_only_errors;
using nlohmann::json;

// A judgment read back from its own line gives the same line.
void check_round_trip(const Judgment& j, const std::string& where) {
  const std::string line = judgment_to_json(j).dump(-1, ' ', false, json::error_handler_t::replace);
  Judgment again;
  const bool ok = expect_only_errors([&] { again = judgment_from_json(json::parse(line), where); });
  FUZZ_CHECK(ok, "a written judgment does not read back: ", line);
  const std::string line2 = judgment_to_json(again).dump(-1, ' ', false, json::error_handler_t::replace);
  FUZZ_CHECK(line2 == line, "\n  first:  ", line, "\n  second: ", line2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(fare::fuzz::as_text(data, size));
  const std::string path = (fare::fuzz::scratch_dir() / "results.jsonl").string();

  // Each line alone, as resuming reads it.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    json record;
    bool parsed = true;
    try {
      record = json::parse(text.substr(pos, eol - pos));
    } catch (const json::exception&) {
      parsed = false;
    }
    Judgment j;
    if (parsed && expect_only_errors([&] { j = judgment_from_json(record, "line"); })) check_round_trip(j, "line");
    pos = eol + 1;
  }

  fare::fuzz::write_file(path, text);
  std::vector<Judgment> all;
  const bool read_ok = expect_only_errors([&] { all = read_results(path); });
  ExistingResults existing;
  if (!expect_only_errors([&] { existing = open_results(path); })) return 0;
  const std::string kept = fare::fuzz::read_file(path);
  FUZZ_CHECK(text.starts_with(kept), "open_results left bytes that were not in the file");
  FUZZ_CHECK(kept.empty() || kept.back() == '\n', "open_results left a torn last line");
  FUZZ_CHECK(existing.repaired == (kept.size() < text.size()), "repaired ", existing.repaired, ", ", kept.size(), " of ",
             text.size(), " bytes kept");
  FUZZ_CHECK(existing.judgments.size() == existing.n_lines);
  if (read_ok) {
    FUZZ_CHECK(!existing.repaired, "read_results took a file that open_results had to repair");
    FUZZ_CHECK(all.size() == existing.judgments.size());
  }
  if (!kept.empty()) {
    std::vector<Judgment> again;
    FUZZ_CHECK(expect_only_errors([&] { again = read_results(path); }), "the repaired file does not read");
    FUZZ_CHECK(again.size() == existing.judgments.size());
    for (size_t i = 0; i < again.size(); ++i) FUZZ_CHECK(again[i].key == existing.judgments[i].key);
  }
  return 0;
}
