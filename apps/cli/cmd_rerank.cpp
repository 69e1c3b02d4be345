// fare rerank: best-of-N for one question, pointwise or by a pairwise knockout tournament.
#include <cstdio>
#include <iostream>

#include "apps/cli/commands.h"
#include "common/error.h"
#include "judge/rerank.h"

namespace fare::cli {

namespace {

struct RerankArgs {
  std::string input;
  std::string instruction;
  std::vector<std::string> candidates;
  std::string reference;
  std::string method = "knockout";
  bool json = false;
};

judge::RerankInput input_from(const RerankArgs& r) {
  if (!r.input.empty()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(read_text_file(r.input));
    } catch (const nlohmann::json::parse_error& e) {
      fail(r.input, ": not valid JSON (", e.what(), ")");
    }
    return judge::rerank_input_from_json(j, r.input);
  }
  if (r.instruction.empty()) fail("--instruction is required (or --input FILE)");
  judge::RerankInput in;
  in.instruction = text_arg(r.instruction);
  for (const std::string& c : r.candidates) in.candidates.push_back(text_arg(c));
  if (!r.reference.empty()) in.reference = text_arg(r.reference);
  return in;
}

judge::Task task_for(const JudgeArgs& a, judge::RerankMethod method, const judge::RerankInput& in) {
  if (!a.task.empty()) return judge::parse_task(a.task);
  if (method == judge::RerankMethod::kKnockout) return judge::Task::kPairwise;
  return in.reference ? judge::Task::kVerifyRef : judge::Task::kVerify;
}

void print_readable(const judge::RerankResult& r, const judge::RerankInput& in, const judge::JudgeConfig& cfg) {
  std::printf("%s reranking of %zu candidates with task %s\n", std::string(judge::rerank_method_name(r.method)).c_str(),
              in.candidates.size(), std::string(judge::task_name(cfg.task)).c_str());
  std::string ranking;
  for (int k : r.ranking) ranking += cat(ranking.empty() ? "" : " > ", "#", k);
  std::printf("ranking: %s\n", ranking.c_str());
  if (r.method == judge::RerankMethod::kPointwise) {
    for (size_t k = 0; k < in.candidates.size(); ++k) {
      std::string verdicts;
      for (const judge::Judgment& j : r.judgments)
        if (j.item_id == cat(in.id, "-c", k))
          verdicts += cat(verdicts.empty() ? "" : ", ",
                          j.valid ? judge::verdict_code_text(cfg.task, j.code) : "invalid (" + j.verdict.invalid_reason + ")");
      char score[32] = "-";
      if (r.scores[k]) std::snprintf(score, sizeof score, "%.3f", *r.scores[k]);
      std::printf("  #%zu score %s  verdicts: %s\n", k, score, verdicts.c_str());
    }
  } else {
    for (const judge::Match& m : r.matches) {
      std::string orders;
      for (const judge::Decision& d : m.decisions)
        orders += cat(orders.empty() ? "" : ", ", judge::order_name(d.order), ": ",
                      d.valid ? (d.code == judge::kOptionA ? cat("#", m.a) : cat("#", m.b)) : std::string("invalid"));
      std::printf("  round %d: #%d vs #%d -> #%d (%s)%s\n", m.round, m.a, m.b, m.winner, orders.c_str(),
                  m.decided_by_tiebreak ? " by tie-break" : "");
    }
  }
  if (r.best_correct) std::printf("best: #%d, labelled %s\n", r.ranking.front(), *r.best_correct ? "correct" : "incorrect");
}

}  // namespace

void register_rerank(CLI::App& app) {
  auto* cmd = app.add_subcommand("rerank", "Best-of-N: rank candidate answers to one question with the judge");
  auto a = std::make_shared<JudgeArgs>();
  auto r = std::make_shared<RerankArgs>();
  add_judge_options(*cmd, *a);
  cmd->add_option("--method", r->method, "knockout (pairwise tournament) or pointwise (verification score)")
      ->check(CLI::IsMember({"knockout", "pointwise"}));
  cmd->add_option("--task", a->task,
                  "Judge task (default: pairwise for knockout; verify, or verify_ref with --reference, for pointwise; "
                  "rating also works pointwise)")
      ->check(CLI::IsMember({"pairwise", "verify", "verify_ref", "rating"}));
  cmd->add_option("--input", r->input,
                  "JSON file: {instruction, candidates: [\"...\" or {response, correct?}], reference?}");
  cmd->add_option("-i,--instruction", r->instruction, "The question (@FILE reads a file)");
  cmd->add_option("--candidate", r->candidates, "One candidate answer; repeat for each (@FILE)");
  cmd->add_option("--reference", r->reference, "Reference answer for verify_ref scoring (@FILE)");
  cmd->add_flag("--json", r->json, "Print one JSON object: ranking, scores or matches, and every judgment");
  cmd->callback([a, r] {
    judge::RerankInput in = input_from(*r);
    judge::RerankMethod method = judge::parse_rerank_method(r->method);
    judge::JudgeConfig cfg = judge_config_from(*a, task_for(*a, method, in));
    auto backend = open_judge_backend(*a);
    judge::RerankResult result;
    try {
      result = judge::rerank(*backend, cfg, in, method, a->parallel);
    } catch (...) {
      print_backend_summary(*backend);
      throw;
    }
    print_backend_summary(*backend);
    if (r->json)
      std::cout << judge::rerank_to_json(result, in).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                << "\n";
    else
      print_readable(result, in, cfg);
  });
}

}  // namespace fare::cli
