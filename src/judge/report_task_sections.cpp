// The sections of each task: what is specific to reading a pairwise, step, verification or rating
// judge.
#include <algorithm>
#include <cmath>
#include <map>

#include "common/error.h"
#include "judge/report_items.h"
#include "judge/report_sections.h"

namespace fare::judge {

namespace {

// Steps beyond this index share one row and column of the heat map.
constexpr int kMaxStepShown = 12;
// Solutions longer than this share one bar.
constexpr size_t kMaxLengthShown = 15;

void add_bar(const SectionContext& ctx, std::vector<BarRow>& rows, const std::string& group, const std::string& metric,
             const std::string& label, const std::string& series = "") {
  if (auto row = ctx.bar(group, metric, label, series)) rows.push_back(*row);
}

std::string step_category(int code) {
  if (code == kNoError) return "no error";
  if (code >= kMaxStepShown) return cat(kMaxStepShown, "+");
  return std::to_string(code);
}

// "no error", "0", ..., up to the largest step that occurs (steps from kMaxStepShown on as one).
std::vector<std::string> step_categories(int largest) {
  std::vector<std::string> out = {"no error"};
  for (int k = 0; k <= std::min(largest, kMaxStepShown - 1); ++k) out.push_back(std::to_string(k));
  if (largest >= kMaxStepShown) out.push_back(cat(kMaxStepShown, "+"));
  return out;
}

Chart first_error_heat_map(const RunData& run) {
  std::map<std::pair<std::string, std::string>, double> counts;
  int largest = 0;
  for (const ItemOutcome& o : run.outcomes) {
    if (!o.label) continue;
    const std::optional<Decision>& d = o.as_given;
    std::string predicted = d && d->valid ? step_category(d->code) : "invalid";
    counts[{predicted, step_category(static_cast<int>(*o.label))}] += 1;
    largest = std::max({largest, static_cast<int>(*o.label), d && d->valid ? d->code : 0});
  }
  std::vector<Cell> cells;
  for (const auto& [key, n] : counts) cells.push_back({key.first, key.second, n});
  std::vector<std::string> x = step_categories(largest), y = step_categories(largest);
  x.push_back("invalid");
  return heat_map("chart-first-error", "Predicted against true first error",
                  cat("Items by true and predicted first wrong step; steps from ", kMaxStepShown,
                      " on share a row and column. The diagonal is right."),
                  cells, x, y, "predicted first wrong step", "true first wrong step");
}

// Accuracy (exact first-error index, or -1 on correct solutions) by the solution's number of steps.
std::optional<Chart> accuracy_by_length(const SectionContext& ctx) {
  const RunData& run = ctx.run;
  if (!run.have_texts) return std::nullopt;
  std::map<size_t, std::vector<double>> by_len;
  for (size_t i = 0; i < run.items.size(); ++i) {
    ItemStatus st = item_status(run.task, run.outcomes[i], run.swap);
    if (!st.labeled) continue;
    by_len[std::min(run.items[i].steps.size(), kMaxLengthShown + 1)].push_back(st.right ? 1.0 : 0.0);
  }
  std::vector<BarRow> rows;
  for (const auto& [len, values] : by_len) {
    double mean = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    std::string label = len > kMaxLengthShown ? cat(kMaxLengthShown + 1, "+ steps") : cat(len, len == 1 ? " step" : " steps");
    rows.push_back({label, mean, bootstrap_mean(values, ctx.bootstrap), "", cat("n = ", values.size())});
  }
  if (rows.empty()) return std::nullopt;
  return interval_bars("chart-by-length", "Accuracy by solution length",
                       "Share of solutions whose first error (or its absence) was named exactly, by number of steps.",
                       rows, "accuracy", true);
}

}  // namespace

Section pairwise_section(const SectionContext& ctx) {
  Section s{"task", "Answer order and position bias", "", {}, {}, {}};
  const bool both = ctx.run.swap;
  s.tiles.push_back(ctx.metric_tile("position bias gap", "overall", "position_bias_gap"));
  if (both) {
    s.tiles.push_back(ctx.metric_tile("consistency rate", "overall", "consistency_rate"));
    s.tiles.push_back(ctx.metric_tile("mean accuracy of the orders", "overall", "accuracy_mean_of_orders"));
  }
  std::vector<BarRow> rows;
  if (both) {
    add_bar(ctx, rows, "overall", "accuracy_ab", "as given (ab)");
    add_bar(ctx, rows, "overall", "accuracy_ba", "swapped (ba)");
  } else {
    add_bar(ctx, rows, "overall", "accuracy", "as given");
  }
  add_bar(ctx, rows, "overall", "accuracy_right_shown_first", "right answer shown first");
  add_bar(ctx, rows, "overall", "accuracy_right_shown_second", "right answer shown second");
  if (both) add_bar(ctx, rows, "overall", "accuracy_consistent", "consistent (both orders)");
  s.note = "The position bias gap is the accuracy when the right answer is shown first minus when it is shown "
           "second: 0 for a judge that does not care where an answer stands, 100% for one that always picks the "
           "first.";
  if (!rows.empty())
    s.charts.push_back(interval_bars("chart-orders", "Accuracy by answer order", "Lines: 95% bootstrap intervals.",
                                     rows, "accuracy", true));
  return s;
}

Section step_section(const SectionContext& ctx) {
  Section s{"task", "First-error identification", "", {}, {}, {}};
  const RunData& run = ctx.run;
  s.tiles.push_back(ctx.metric_tile("F1 (all items pooled)", "overall", "f1"));
  s.tiles.push_back(ctx.metric_tile("accuracy on erroneous solutions", "overall", "accuracy_erroneous"));
  s.tiles.push_back(ctx.metric_tile("accuracy on correct solutions", "overall", "accuracy_correct"));
  std::vector<BarRow> rows;
  for (const MetricGroup& g : run.metrics.groups) {
    if (g.name != "overall" && !g.name.starts_with("subset=")) continue;
    add_bar(ctx, rows, g.name, "f1", group_label(g.name), "F1");
    add_bar(ctx, rows, g.name, "accuracy_erroneous", group_label(g.name), "accuracy, erroneous");
    add_bar(ctx, rows, g.name, "accuracy_correct", group_label(g.name), "accuracy, correct");
  }
  if (!rows.empty())
    s.charts.push_back(interval_bars("chart-splits", "F1 and both accuracies per split",
                                     "F1 is the harmonic mean of the accuracy on erroneous solutions (exact first "
                                     "wrong step) and on correct ones (saying -1).",
                                     rows, "rate", true));
  s.charts.push_back(first_error_heat_map(run));
  if (auto chart = accuracy_by_length(ctx)) s.charts.push_back(*chart);
  else s.note = "Accuracy by solution length needs the items' steps: the input files were not available.";
  return s;
}

Section verify_section(const SectionContext& ctx) {
  Section s{"task", "Verification", "", {}, {}, {}};
  const RunData& run = ctx.run;
  s.tiles.push_back(ctx.metric_tile("precision (Correct)", "overall", "precision_correct"));
  s.tiles.push_back(ctx.metric_tile("recall (Correct)", "overall", "recall_correct"));
  s.tiles.push_back(ctx.metric_tile("F1 (Correct)", "overall", "f1_correct"));
  std::map<std::pair<std::string, std::string>, double> counts;
  for (const ItemOutcome& o : run.outcomes) {
    if (!o.label) continue;
    const std::optional<Decision>& d = o.as_given;
    std::string predicted = d && d->valid ? code_text(run.task, d->code) : "invalid";
    counts[{predicted, code_text(run.task, *o.label)}] += 1;
  }
  std::vector<Cell> cells;
  for (const auto& [key, n] : counts) cells.push_back({key.first, key.second, n});
  s.charts.push_back(heat_map("chart-confusion", "Confusion matrix",
                              "Labelled items by the verdict given (columns) and the truth (rows).", cells,
                              {"Correct", "Incorrect", "invalid"}, {"Correct", "Incorrect"}, "verdict", "label"));
  std::vector<BarRow> rows;
  add_bar(ctx, rows, "overall", "accuracy", "accuracy");
  add_bar(ctx, rows, "overall", "precision_correct", "precision (Correct)");
  add_bar(ctx, rows, "overall", "recall_correct", "recall (Correct)");
  add_bar(ctx, rows, "overall", "f1_correct", "F1 (Correct)");
  add_bar(ctx, rows, "overall", "accuracy_on_incorrect", "accuracy on Incorrect");
  if (!rows.empty())
    s.charts.push_back(interval_bars("chart-prf", "Precision, recall and F1",
                                     "Of the answers that are correct, recall is the share judged Correct; of those "
                                     "judged Correct, precision is the share that are.",
                                     rows, "rate", true));
  return s;
}

Section rating_section(const SectionContext& ctx) {
  Section s{"task", "Scores", "", {}, {}, {}};
  const RunData& run = ctx.run;
  s.tiles.push_back(ctx.metric_tile("standard deviation", "overall", "stddev"));
  std::vector<double> hist(kMaxRating + 1);
  std::map<std::pair<int, double>, double> pairs;
  for (const ItemOutcome& o : run.outcomes) {
    if (!o.as_given || !o.as_given->valid) continue;
    int r = o.as_given->code;
    if (r >= kMinRating && r <= kMaxRating) hist[r] += 1;
    if (o.label) pairs[{r, *o.label}] += 1;
  }
  std::vector<std::pair<std::string, double>> counts;
  for (int r = kMinRating; r <= kMaxRating; ++r) counts.emplace_back(std::to_string(r), hist[r]);
  s.charts.push_back(count_bars("chart-ratings", "Score histogram", "Valid ratings by score.", counts, "items"));
  if (pairs.empty()) {
    s.note = "The items have no reference scores, so agreement cannot be measured.";
    return s;
  }
  s.tiles.push_back(ctx.metric_tile("Pearson with reference", "overall", "pearson"));
  s.tiles.push_back(ctx.metric_tile("Spearman with reference", "overall", "spearman"));
  s.tiles.push_back(ctx.metric_tile("mean absolute error", "overall", "mean_abs_error"));
  std::vector<Point> points;
  for (const auto& [key, n] : pairs) points.push_back({static_cast<double>(key.first), key.second, n});
  s.charts.push_back(count_scatter("chart-agreement", "Agreement with the reference scores",
                                   "Each dot is a (rating, reference) pair; larger dots are shared by more items.", points,
                                   "rating given", "reference score"));
  return s;
}

}  // namespace fare::judge
