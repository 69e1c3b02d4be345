// One evaluation run as a report sees it: the judgments of a results file, the summary written
// beside it, and the items they judged, with the metrics recomputed exactly as `fare eval` computed
// them for the summary (same judgments, same items, same code).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "judge/item.h"
#include "judge/judgment.h"
#include "judge/metrics.h"

namespace fare::judge {

struct RunSource {
  std::string results_path;
  std::string summary_path;                // empty: summary_path_for(results_path), if it exists
  std::optional<std::vector<Item>> items;  // the run's items in order; unset: read from the summary's inputs
  std::vector<std::string> inputs;         // item files to read instead of the summary's
  std::string answers;                     // MT-Bench answers file, instead of the summary's
};

struct RunData {
  std::string results_path;
  std::string summary_path;  // empty when there was no summary
  nlohmann::json summary;    // null when there was no summary
  std::string model_id;
  std::string model_family;  // the chat template's family, as the judgments recorded it; empty: not recorded
  Task task = Task::kPairwise;
  bool swap = false;
  std::string template_hash;
  std::vector<Judgment> judgments;  // this run's: its template, its items, the first of each key
  std::vector<Item> items;          // this run's, in the order it judged them
  bool have_texts = false;          // items carry their question and answers
  std::string texts_note;           // why they do not
  std::vector<ItemOutcome> outcomes;  // one per item, same order
  Metrics metrics;
  JudgmentCounts counts;
  std::map<std::string, std::vector<size_t>> judgments_of;  // item id -> indices into judgments
  std::map<std::string, size_t> item_index;                // item id -> index into items

  const Item* item(const std::string& id) const;
};

// Throws fare::Error with the file (and line) for a missing or malformed results file or summary,
// judgments of several tasks or models, or no judgment of the run's items.
RunData load_run(const RunSource& source);

}  // namespace fare::judge
