#include "judge/rerank.h"

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "judge/judge.h"
#include "judge/json_fields.h"

namespace fare::judge {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

std::string_view rerank_method_name(RerankMethod m) { return m == RerankMethod::kPointwise ? "pointwise" : "knockout"; }

RerankMethod parse_rerank_method(std::string_view name) {
  if (name == "pointwise") return RerankMethod::kPointwise;
  if (name == "knockout") return RerankMethod::kKnockout;
  fail("rerank method '", name, "', expected \"pointwise\" or \"knockout\"");
}

RerankInput rerank_input_from_json(const json& j, const std::string& where) {
  require_object(j, where);
  RerankInput in;
  if (has_field(j, "id")) in.id = string_field(j, "id", where);
  in.instruction = string_field(j, "instruction", where);
  in.reference = optional_string_field(j, "reference", where);
  const json& cands = require_field(j, "candidates", where);
  if (!cands.is_array() || cands.size() < 2) fail_field(where, "candidates", cands, "an array of 2 or more answers");
  for (size_t k = 0; k < cands.size(); ++k) {
    std::string at = cat(where, ": candidates[", k, "]");
    if (cands[k].is_string()) {
      in.candidates.push_back(cands[k].get<std::string>());
      in.correct.push_back(std::nullopt);
    } else {
      in.candidates.push_back(string_field(cands[k], "response", at));
      in.correct.push_back(has_field(cands[k], "correct") ? std::optional<bool>(bool_field(cands[k], "correct", at))
                                                          : std::nullopt);
    }
  }
  return in;
}

namespace {

std::optional<double> pointwise_score(const std::vector<Judgment>& samples, Task task) {
  double sum = 0;
  int n = 0;
  for (const Judgment& j : samples) {
    if (!j.valid) continue;
    double s = 0;
    if (j.probs)
      s = task == Task::kRating ? j.probs->soft_score / kMaxRating : j.probs->soft_score;
    else
      s = task == Task::kRating ? static_cast<double>(j.code) / kMaxRating : (j.code == kCorrect ? 1.0 : 0.0);
    sum += s;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

void rank_pointwise(JudgeBackend& backend, const JudgeConfig& config, const RerankInput& input, int parallel,
                    const std::atomic<bool>* cancel, RerankResult& out) {
  if (config.task != Task::kVerify && config.task != Task::kVerifyRef && config.task != Task::kRating)
    fail("pointwise reranking judges with verify, verify_ref or rating, not ", task_name(config.task));
  // Every candidate's jobs at once: they share the question, so a local engine computes its
  // prompt blocks once and decodes the candidates together.
  std::vector<Item> items(input.candidates.size());
  std::vector<Job> jobs;
  for (size_t k = 0; k < items.size(); ++k) {
    Item& item = items[k];
    item.id = cat(input.id, "-c", k);
    item.task = config.task;
    item.instruction = input.instruction;
    item.response = input.candidates[k];
    item.reference = input.reference;
    for (const Job& job : jobs_for_item(item, config)) jobs.push_back(job);
  }
  std::vector<Judgment> done = run_jobs(backend, config, jobs, parallel, cancel);
  const size_t per_item = done.size() / items.size();
  for (size_t k = 0; k < items.size(); ++k) {
    std::vector<Judgment> mine(std::make_move_iterator(done.begin() + k * per_item),
                               std::make_move_iterator(done.begin() + (k + 1) * per_item));
    out.scores.push_back(pointwise_score(mine, config.task));
    for (Judgment& j : mine) out.judgments.push_back(std::move(j));
  }
  out.ranking.resize(input.candidates.size());
  std::iota(out.ranking.begin(), out.ranking.end(), 0);
  std::stable_sort(out.ranking.begin(), out.ranking.end(), [&](int a, int b) {
    const auto& sa = out.scores[a];
    const auto& sb = out.scores[b];
    if (sa.has_value() != sb.has_value()) return sa.has_value();
    return sa && *sa > *sb;
  });
}

Match play_match(const RerankInput& input, int round, int a, int b, ItemResult r, std::vector<Judgment>& judgments) {
  int votes_a = 0, votes_b = 0, n_soft = 0;
  double soft = 0;
  for (const Judgment& j : r.judgments) {
    if (j.valid) (j.code == kOptionA ? votes_a : votes_b)++;
    if (j.probs) {
      soft += j.probs->soft_score;
      ++n_soft;
    }
  }
  Match m{round, a, b, a, false, r.decisions};
  if (votes_a != votes_b) {
    m.winner = votes_a > votes_b ? a : b;
  } else {
    m.decided_by_tiebreak = true;
    m.winner = n_soft > 0 && soft / n_soft < 0.5 ? b : a;
  }
  for (Judgment& j : r.judgments) judgments.push_back(std::move(j));
  return m;
}

void rank_knockout(JudgeBackend& backend, const JudgeConfig& config, const RerankInput& input, int parallel,
                   const std::atomic<bool>* cancel, RerankResult& out) {
  if (config.task != Task::kPairwise) fail("knockout reranking judges with pairwise, not ", task_name(config.task));
  std::vector<int> alive(input.candidates.size());
  std::iota(alive.begin(), alive.end(), 0);
  std::vector<std::vector<int>> losers;
  for (int round = 0; alive.size() > 1; ++round) {
    // The round's matches are judged at once, then decided in order.
    std::vector<Item> items;
    for (size_t i = 0; i + 1 < alive.size(); i += 2) {
      Item item;
      item.id = cat(input.id, "-r", round, "-", alive[i], "v", alive[i + 1]);
      item.task = Task::kPairwise;
      item.instruction = input.instruction;
      item.response_a = input.candidates[alive[i]];
      item.response_b = input.candidates[alive[i + 1]];
      items.push_back(std::move(item));
    }
    std::vector<Job> jobs;
    for (const Item& item : items)
      for (const Job& job : jobs_for_item(item, config)) jobs.push_back(job);
    std::vector<Judgment> done = run_jobs(backend, config, jobs, parallel, cancel);
    const size_t per_match = done.size() / items.size();
    std::vector<int> next, lost;
    for (size_t i = 0; i < alive.size(); i += 2) {
      if (i + 1 == alive.size()) {
        next.push_back(alive[i]);
        continue;
      }
      const auto first = done.begin() + static_cast<std::ptrdiff_t>(i / 2 * per_match);
      std::vector<Judgment> mine(std::make_move_iterator(first),
                                 std::make_move_iterator(first + static_cast<std::ptrdiff_t>(per_match)));
      Match m = play_match(input, round, alive[i], alive[i + 1], item_result(std::move(mine)), out.judgments);
      next.push_back(m.winner);
      lost.push_back(m.winner == m.a ? m.b : m.a);
      out.matches.push_back(std::move(m));
    }
    losers.push_back(std::move(lost));
    alive = std::move(next);
  }
  out.ranking = alive;
  for (auto it = losers.rbegin(); it != losers.rend(); ++it) out.ranking.insert(out.ranking.end(), it->begin(), it->end());
}

}  // namespace

RerankResult rerank(JudgeBackend& backend, const JudgeConfig& config, const RerankInput& input, RerankMethod method,
                    int parallel, const std::atomic<bool>* cancel) {
  if (input.candidates.size() < 2) fail("reranking needs at least 2 candidates, got ", input.candidates.size());
  if (!input.correct.empty() && input.correct.size() != input.candidates.size())
    fail("reranking got ", input.correct.size(), " labels for ", input.candidates.size(), " candidates");
  RerankResult out;
  out.method = method;
  if (method == RerankMethod::kPointwise)
    rank_pointwise(backend, config, input, parallel, cancel, out);
  else
    rank_knockout(backend, config, input, parallel, cancel, out);
  if (!input.correct.empty()) out.best_correct = input.correct[out.ranking.front()];
  return out;
}

ojson rerank_to_json(const RerankResult& r, const RerankInput& input) {
  ojson out = {{"method", rerank_method_name(r.method)}, {"ranking", r.ranking}, {"best", r.ranking.front()}};
  if (r.method == RerankMethod::kPointwise) {
    ojson scores = ojson::array();
    for (const auto& s : r.scores) scores.push_back(s ? ojson(*s) : ojson(nullptr));
    out["scores"] = scores;
  } else {
    ojson matches = ojson::array();
    for (const Match& m : r.matches) {
      ojson orders = ojson::array();
      for (const Decision& d : m.decisions)
        orders.push_back({{"order", order_name(d.order)},
                          {"verdict", d.valid ? ojson(verdict_code_text(Task::kPairwise, d.code)) : ojson(nullptr)},
                          {"votes", d.n_votes},
                          {"samples", d.n_samples}});
      matches.push_back({{"round", m.round}, {"a", m.a}, {"b", m.b}, {"winner", m.winner},
                         {"tiebreak", m.decided_by_tiebreak}, {"orders", orders}});
    }
    out["matches"] = matches;
  }
  if (r.best_correct) out["best_correct"] = *r.best_correct;
  ojson judgments = ojson::array();
  for (const Judgment& j : r.judgments) judgments.push_back(judgment_to_json(j));
  out["judgments"] = judgments;
  out["id"] = input.id;
  return out;
}

}  // namespace fare::judge
