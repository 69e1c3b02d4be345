// fare report: a self-contained HTML report of one evaluation, or the comparison of two runs on
// the same items.
#include <cstdio>
#include <filesystem>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "judge/eval.h"
#include "judge/html_report.h"

namespace fare::cli {

namespace {

struct ReportArgs {
  std::vector<std::string> results;
  std::vector<std::string> summaries;
  std::string output;
  std::vector<std::string> inputs;
  std::string answers;
  uint64_t seed = judge::kDefaultReportSeed;
  int resamples = judge::kDefaultResamples;
};

// "out/jb.jsonl" and "out/jb-think.jsonl" -> "out/jb.vs.jb-think.report.html", beside the first.
std::string comparison_path(const std::string& a, const std::string& b) {
  std::string first = judge::report_path_for(a);
  first.resize(first.size() - std::string_view(".report.html").size());
  return first + ".vs." + std::filesystem::path(b).stem().string() + ".report.html";
}

void run(const ReportArgs& r) {
  if (!r.summaries.empty() && r.summaries.size() != r.results.size())
    fail("--summary was given ", r.summaries.size(), " times for ", r.results.size(), " results files; give one each");
  std::vector<judge::RunData> runs;
  for (size_t k = 0; k < r.results.size(); ++k) {
    judge::RunSource src;
    src.results_path = r.results[k];
    if (!r.summaries.empty()) src.summary_path = r.summaries[k];
    src.inputs = r.inputs;
    src.answers = r.answers;
    runs.push_back(judge::load_run(src));
    if (!runs.back().have_texts)
      std::fprintf(stderr, "note: %s: item texts left out: %s\n", r.results[k].c_str(), runs.back().texts_note.c_str());
  }
  judge::ReportOptions opts;
  opts.bootstrap = {r.seed, r.resamples};
  std::string path = r.output;
  std::string html;
  if (runs.size() == 1) {
    html = judge::run_report_html(runs[0], opts);
    if (path.empty()) path = judge::report_path_for(r.results[0]);
  } else {
    html = judge::comparison_report_html(runs[0], runs[1], opts);
    if (path.empty()) path = comparison_path(r.results[0], r.results[1]);
  }
  judge::write_report(path, html);
  std::printf("report: %s\n", path.c_str());
}

}  // namespace

void register_report(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "Write a self-contained HTML report of an evaluation, or compare two evaluations of the same items");
  auto r = std::make_shared<ReportArgs>();
  cmd->add_option("results", r->results, "Results JSONL of `fare eval`; a second one compares the two runs")
      ->required()
      ->expected(1, 2);
  cmd->add_option("-o,--output", r->output,
                  "HTML file to write (default: beside the results, out/jb.jsonl -> out/jb.report.html; two runs: "
                  "out/jb.vs.<second>.report.html)");
  cmd->add_option("--summary", r->summaries, "Summary JSON of each results file (default: out/jb.summary.json beside it)");
  cmd->add_option("--input", r->inputs, "Item files to show questions and answers from (default: the summary's inputs)");
  cmd->add_option("--answers", r->answers, "MT-Bench: the answers file the run rated (default: the summary's)");
  cmd->add_option("--seed", r->seed, "Seed of the bootstrap resampling; the same seed gives the same file")
      ->capture_default_str();
  cmd->add_option("--resamples", r->resamples, "Bootstrap resamples per interval")
      ->check(CLI::Range(100, 100000))
      ->capture_default_str();
  cmd->callback([r] { run(*r); });
}

}  // namespace fare::cli
