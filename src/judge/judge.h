// Judging one item: build the prompts, ask the backend, read the verdicts, vote.
#pragma once

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
Judgment run_job(JudgeBackend& backend, const JudgeConfig& config, const Job& job);

struct ItemResult {
  std::vector<Judgment> judgments;
  std::vector<Decision> decisions;  // one per order
};

ItemResult judge_item(JudgeBackend& backend, const JudgeConfig& config, const Item& item);

// Groups judgments by order and votes; orders with no judgments are left out.
std::vector<Decision> decide_orders(const std::vector<const Judgment*>& judgments);

}  // namespace fare::judge
