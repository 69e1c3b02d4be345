// Judging one item: build the prompts, ask the backend, read the verdicts, vote.
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "judge/backend.h"
#include "judge/item.h"
#include "judge/judgment.h"
#include "judge/settings.h"

namespace fare::judge {

struct Job {
  const Item* item = nullptr;
  Order order = Order::kAsGiven;
  int sample = 0;
};

// Every (order, sample) the config asks for, in a fixed order: orders outer, samples inner.
std::vector<Job> jobs_for_item(const Item& item, const JudgeConfig& config);
std::vector<Order> orders_for(const JudgeConfig& config);

// One completion and its verdict. A RequestRejected from the backend becomes an invalid judgment
// with `error` set, so that one bad item does not stop a whole evaluation.
// `cancel` (may be null): set when the caller no longer wants the answer; the backend then stops
// early and RequestCancelled is thrown.
Judgment run_job(JudgeBackend& backend, const JudgeConfig& config, const Job& job,
                 const std::atomic<bool>* cancel = nullptr);

// Runs jobs with up to `parallel` of them in flight (a local engine batches what is in flight);
// on_done is called under one lock, so it may write and count. Stops taking new jobs once *stop
// is set. The first exception that is not a judged-as-invalid rejection stops every worker and
// is rethrown.
void run_jobs(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Job>& jobs, int parallel,
              const std::atomic<bool>* stop, const std::function<void(size_t index, Judgment&&)>& on_done,
              const std::atomic<bool>* cancel = nullptr);
// The same, the judgments returned in job order.
std::vector<Judgment> run_jobs(JudgeBackend& backend, const JudgeConfig& config, const std::vector<Job>& jobs,
                               int parallel, const std::atomic<bool>* cancel = nullptr);

struct ItemResult {
  std::vector<Judgment> judgments;
  std::vector<Decision> decisions;  // one per order
};

// Every job of the item (orders, samples), up to `parallel` at once.
ItemResult judge_item(JudgeBackend& backend, const JudgeConfig& config, const Item& item, int parallel = 1,
                      const std::atomic<bool>* cancel = nullptr);
// Votes an item's judgments (in jobs_for_item order) into its ItemResult.
ItemResult item_result(std::vector<Judgment> judgments);

// Groups judgments by order and votes; orders with no judgments are left out.
std::vector<Decision> decide_orders(const std::vector<const Judgment*>& judgments);

}  // namespace fare::judge
