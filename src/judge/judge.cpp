#include "judge/judge.h"

#include <chrono>

#include "common/error.h"
#include "judge/prompt.h"

namespace fare::judge {

std::vector<Order> orders_for(const JudgeConfig& config) {
  if (config.task == Task::kPairwise && config.swap) return {Order::kAsGiven, Order::kSwapped};
  return {Order::kAsGiven};
}

std::vector<Job> jobs_for_item(const Item& item, const JudgeConfig& config) {
  FARE_CHECK(item.task == config.task, "item ", item.id, " is a ", task_name(item.task), " item, config is for ",
             task_name(config.task));
  std::vector<Job> jobs;
  for (Order order : orders_for(config))
    for (int s = 0; s < config.samples; ++s) jobs.push_back({&item, order, s});
  return jobs;
}

Judgment run_job(JudgeBackend& backend, const JudgeConfig& config, const Job& job) {
  const Item& item = *job.item;
  Judgment j;
  j.item_id = item.id;
  j.task = config.task;
  j.order = job.order;
  j.sample = job.sample;
  j.template_hash = config.tpl.hash();
  j.key = judgment_key(item.id, config.task, job.order, job.sample, j.template_hash);
  j.model_id = backend.model_id();
  j.generation = config.generation;
  j.generation.seed = config.generation.seed + static_cast<uint64_t>(job.sample);
  j.think = config.think;
  j.label = item.label;
  j.subset = item.subset;
  j.difficulty = item.difficulty;

  JudgeRequest req;
  req.messages = build_messages(config.tpl, item, job.order);
  req.think = config.think;
  req.generation = j.generation;
  req.top_logprobs = backend.supports_logprobs() ? config.top_logprobs : 0;

  JudgeCompletion out;
  auto t0 = std::chrono::steady_clock::now();
  try {
    out = backend.complete(req);
  } catch (const RequestRejected& e) {
    j.error = e.what();
    j.verdict.invalid_reason = kReasonBackendError;
    j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    j.finish_reason = "error";
    if (item.label && config.task != Task::kRating) j.correct = false;
    return j;
  }
  j.raw = out.text;
  j.prompt_tokens = out.prompt_tokens;
  j.completion_tokens = out.completion_tokens;
  j.seconds = out.seconds;
  j.finish_reason = out.finish_reason;

  int n_steps = config.task == Task::kStep ? static_cast<int>(item.steps.size()) : -1;
  j.verdict = parse_verdict(out.text, {config.task, n_steps});
  bool swapped = job.order == Order::kSwapped;
  if (j.verdict.valid) {
    j.valid = true;
    j.code = swapped ? 1 - j.verdict.code : j.verdict.code;
    j.probs = option_probabilities(out.steps, out.text, j.verdict.option_offset, config.task, n_steps);
    if (j.probs && swapped) j.probs = swap_pairwise(*j.probs);
  }
  if (item.label && config.task != Task::kRating) j.correct = j.valid && j.code == static_cast<int>(*item.label);
  return j;
}

std::vector<Decision> decide_orders(const std::vector<const Judgment*>& judgments) {
  std::vector<Decision> out;
  for (Order order : {Order::kAsGiven, Order::kSwapped}) {
    std::vector<const Judgment*> group;
    for (const Judgment* j : judgments)
      if (j->order == order) group.push_back(j);
    if (!group.empty()) out.push_back(decide(group));
  }
  return out;
}

ItemResult judge_item(JudgeBackend& backend, const JudgeConfig& config, const Item& item) {
  ItemResult r;
  for (const Job& job : jobs_for_item(item, config)) r.judgments.push_back(run_job(backend, config, job));
  std::vector<const Judgment*> ptrs;
  for (const Judgment& j : r.judgments) ptrs.push_back(&j);
  r.decisions = decide_orders(ptrs);
  return r;
}

}  // namespace fare::judge
