// fare eval: judge a whole benchmark file, resumably, and report its metrics.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "judge/dataset.h"
#include "judge/eval.h"
#include "judge/html_report.h"
#include "judge/report.h"

namespace fare::cli {

namespace {

constexpr size_t kProblemsShown = 10;

std::atomic<bool> g_stop{false};

// The first Ctrl-C lets the judgments in flight finish and the summary be written; a second one
// kills the process as usual (resuming redoes whatever was cut).
void on_interrupt(int) {
  g_stop = true;
  std::signal(SIGINT, SIG_DFL);
}

struct EvalArgs {
  std::string dataset;
  std::vector<std::string> inputs;
  std::string output;
  std::string summary;
  std::string answers;
  size_t limit = 0;
  uint64_t shuffle_seed = 0;
  bool strict = false;
  bool report = false;
  double progress_interval = 30;
  CLI::Option* limit_opt = nullptr;
  CLI::Option* shuffle_opt = nullptr;
};

// The report of the run just made, from the results file and summary as written (so it is the
// report `fare report` would write), with the items already in memory.
void write_html_report(const EvalArgs& e, const judge::EvalReport& r, std::vector<judge::Item> items) {
  judge::RunSource src;
  src.results_path = e.output;
  src.summary_path = r.summary_path;
  src.items = std::move(items);
  const std::string path = judge::report_path_for(e.output);
  judge::write_report(path, judge::run_report_html(judge::load_run(src), {}));
  std::printf("report: %s\n", path.c_str());
}

void run(const JudgeArgs& a, const EvalArgs& e) {
  judge::LoadOptions lo;
  lo.dataset = e.dataset;
  if (!a.task.empty()) lo.task = judge::parse_task(a.task);
  lo.strict = e.strict;
  lo.answers_path = e.answers;
  judge::LoadResult loaded = judge::load_datasets(e.inputs, lo);
  std::fprintf(stderr, "loaded %zu items (%s, task %s) from %zu records\n", loaded.items.size(),
               loaded.dataset.c_str(), std::string(judge::task_name(loaded.task)).c_str(), loaded.n_records);
  if (!loaded.problems.empty()) {
    std::fprintf(stderr, "skipped %zu malformed records (--strict stops instead):\n", loaded.problems.size());
    for (size_t k = 0; k < loaded.problems.size() && k < kProblemsShown; ++k)
      std::fprintf(stderr, "  %s\n", loaded.problems[k].c_str());
    if (loaded.problems.size() > kProblemsShown)
      std::fprintf(stderr, "  ... and %zu more\n", loaded.problems.size() - kProblemsShown);
  }
  if (loaded.items.empty()) fail("no item to judge in ", e.inputs.front());

  judge::JudgeConfig cfg = judge_config_from(a, loaded.task);
  auto backend = open_judge_backend(a);
  judge::EvalOptions o;
  o.output_path = e.output;
  o.summary_path = e.summary;
  if (e.limit_opt->count()) o.limit = e.limit;
  if (e.shuffle_opt->count()) o.shuffle_seed = e.shuffle_seed;
  o.parallel = a.parallel;
  o.log = &std::cerr;
  o.tty = ::isatty(STDERR_FILENO) != 0;
  o.progress_interval_s = e.progress_interval;
  o.stop = &g_stop;
  o.extra = {{"dataset", loaded.dataset}, {"inputs", e.inputs}, {"records", loaded.n_records},
             {"records_skipped", loaded.problems.size()}};
  // What selected the items, so that `fare report` can find them again in the inputs.
  if (o.limit) o.extra["limit"] = *o.limit;
  if (o.shuffle_seed) o.extra["shuffle_seed"] = *o.shuffle_seed;
  if (!e.answers.empty()) o.extra["answers"] = e.answers;
  std::signal(SIGINT, on_interrupt);
  judge::EvalReport r;
  try {
    r = judge::run_eval(*backend, cfg, loaded.items, o);
  } catch (...) {
    print_backend_summary(*backend);  // a server that failed every retry: what each endpoint did
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  print_backend_summary(*backend);

  std::printf("%s on %s: %zu items, task %s, model %s\n", loaded.dataset.c_str(), e.inputs.front().c_str(),
              r.n_items, std::string(judge::task_name(cfg.task)).c_str(), backend->model_id().c_str());
  std::printf("%s", judge::format_metrics_table(r.metrics).c_str());
  std::printf("%s\n", judge::format_counts(r.counts).c_str());
  if (r.n_ties_broken) std::printf("self-consistency ties broken: %zu\n", r.n_ties_broken);
  std::printf("results: %s (%zu judgments: %zu resumed, %zu new)\nsummary: %s\n", e.output.c_str(), r.n_jobs,
              r.n_resumed, r.n_run, r.summary_path.c_str());
  if (e.report && r.n_resumed + r.n_run > 0)  // a run stopped before its first judgment has nothing to show
    write_html_report(e, r, judge::select_items(loaded.items, o.limit, o.shuffle_seed));
  if (!r.complete) fail("stopped before the end; run the same command again to resume");
}

}  // namespace

void register_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Judge a benchmark file; resumable results JSONL, metrics and a summary JSON");
  auto a = std::make_shared<JudgeArgs>();
  auto e = std::make_shared<EvalArgs>();
  add_judge_options(*cmd, *a);
  cmd->add_option("--task", a->task, "Task; benchmark files imply theirs, the project's JSONL may need it")
      ->check(CLI::IsMember({"pairwise", "step", "verify", "verify_ref", "rating"}));
  std::string names;
  for (const auto& d : judge::dataset_infos()) names += cat(names.empty() ? "" : ", ", d.name);
  cmd->add_option("--dataset", e->dataset, "Input format (default: detected): " + names);
  cmd->add_option("--input", e->inputs, "Items file; repeat to pool files (e.g. RM-Bench's two safety files)")->required();
  cmd->add_option("-o,--output", e->output, "Results JSONL; rerunning with the same file resumes")->required();
  cmd->add_option("--summary", e->summary, "Where to write the summary JSON (default: beside the output, out/jb.jsonl -> out/jb.summary.json)");
  cmd->add_option("--answers", e->answers, "MT-Bench: FastChat model_answer JSONL whose first-turn answers are rated");
  e->limit_opt = cmd->add_option("--limit", e->limit, "Judge only the first N items (after --shuffle-seed)");
  e->shuffle_opt = cmd->add_option("--shuffle-seed", e->shuffle_seed, "Shuffle the items with this seed first");
  cmd->add_flag("--strict", e->strict, "Stop at the first malformed input record instead of skipping it");
  cmd->add_flag("--report", e->report,
                "Also write a self-contained HTML report beside the results (out/jb.jsonl -> out/jb.report.html)");
  cmd->add_option("--progress-interval", e->progress_interval, "Seconds between progress lines when not on a terminal");
  cmd->callback([a, e] { run(*a, *e); });
}

}  // namespace fare::cli
