// Items in a report: how each one came out ("consistent right", "missed error", ...), and the
// record the page shows for it (question, answers, every judgment with its verdict line marked).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "judge/metrics.h"
#include "judge/report_run.h"

namespace fare::judge {

// A rating this far from a labelled reference score is shown as a failure example.
inline constexpr double kFarFromReference = 3;

struct ItemStatus {
  std::string status;        // one of item_statuses(), or "consistent"/"judged" for unlabelled items
  bool labeled = false;
  bool right = false;        // labelled and decided right (pairwise: in both orders)
  std::string failure_kind;  // empty, or the example group: "inconsistent", "invalid: no verdict line", ...
};

ItemStatus item_status(Task task, const ItemOutcome& outcome, bool swap);

// The statuses of a task's labelled items, in the order the report lists them.
std::vector<std::string> item_statuses(Task task, bool swap);

// "A", "no error", "step 2", "Correct", "7"; labels of ratings may be fractional ("7.5").
std::string code_text(Task task, double code);
// The decision per order: "A / B" for both orders of a pair, else the one decision.
std::string decision_text(Task task, const ItemOutcome& outcome);

// The line of `raw` that holds the verdict (where the option was read, or the unreadable verdict
// line): [begin, end) byte offsets, nullopt when there is none.
std::optional<std::pair<size_t, size_t>> verdict_span(const std::string& raw, Task task, int n_steps);

// The page's record of item `index` of `run`; `tag` ("A", "B" or empty) marks its judgments'
// run in a comparison.
nlohmann::ordered_json item_record(const RunData& run, size_t index, const std::string& tag = "");
// Its judgments alone (to add a second run's to a comparison's record).
nlohmann::ordered_json judgment_records(const RunData& run, size_t index, const std::string& tag);

}  // namespace fare::judge
