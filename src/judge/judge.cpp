#include "judge/judge.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

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

Judgment run_job(JudgeBackend& backend, const JudgeConfig& config, const Job& job, const std::atomic<bool>* cancel) {
  const Item& item = *job.item;
  check_model_family(config, backend.chat_family());  // a setup error, not this item's: it stops the run
  Judgment j;
  j.item_id = item.id;
  j.task = config.task;
  j.order = job.order;
  j.sample = job.sample;
  j.template_hash = config.tpl.hash();
  j.key = judgment_key(item.id, config.task, job.order, job.sample, j.template_hash);
  j.model_id = backend.model_id();
  j.model_family = backend.chat_family();
  j.generation = config.generation;
  j.generation.seed = config.generation.seed + static_cast<uint64_t>(job.sample);
  j.think = config.think;
  j.reasoning_effort = config.reasoning_effort;
  j.label = item.label;
  j.subset = item.subset;
  j.difficulty = item.difficulty;

  JudgeRequest req;
  req.messages = build_messages(config.tpl, item, job.order);
  req.think = config.think;
  req.reasoning_effort = config.reasoning_effort;
  req.generation = j.generation;
  req.top_logprobs = backend.supports_logprobs() ? config.top_logprobs : 0;
  req.cancel = cancel;

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

void run_jobs(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Job>& jobs, int parallel,
              const std::atomic<bool>* stop, const std::function<void(size_t, Judgment&&)>& on_done,
              const std::atomic<bool>* cancel) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  auto worker = [&] {
    while (!failed && !(stop && stop->load()) && !(cancel && cancel->load())) {
      const size_t k = next++;
      if (k >= jobs.size()) return;
      try {
        Judgment j = run_job(backend, config, jobs[k], cancel);
        std::lock_guard<std::mutex> lock(mu);
        if (failed) return;  // after a failure (a full disk, say) nothing more is recorded
        on_done(k, std::move(j));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  const int n_threads = std::max(1, std::min<int>(parallel, static_cast<int>(jobs.size())));
  if (n_threads == 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
  }
  if (error) std::rethrow_exception(error);
}

std::vector<Judgment> run_jobs(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Job>& jobs,
                               int parallel, const std::atomic<bool>* cancel) {
  std::vector<Judgment> out(jobs.size());
  run_jobs(backend, config, jobs, parallel, nullptr, [&](size_t k, Judgment&& j) { out[k] = std::move(j); }, cancel);
  if (cancel && cancel->load()) throw RequestCancelled("the request was cancelled");
  return out;
}

ItemResult judge_item(JudgeBackend& backend, const JudgeConfig& config, const Item& item, int parallel,
                      const std::atomic<bool>* cancel) {
  return item_result(run_jobs(backend, config, jobs_for_item(item, config), parallel, cancel));
}

ItemResult item_result(std::vector<Judgment> judgments) {
  ItemResult r;
  r.judgments = std::move(judgments);
  std::vector<const Judgment*> ptrs;
  for (const Judgment& j : r.judgments) ptrs.push_back(&j);
  r.decisions = decide_orders(ptrs);
  return r;
}

}  // namespace fare::judge
