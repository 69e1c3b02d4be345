#include "judge/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace fare::judge {

using ojson = nlohmann::ordered_json;

namespace {

class GroupBuilder {
 public:
  explicit GroupBuilder(std::string name) { g_.name = std::move(name); }
  void count(const std::string& name, double n) { g_.metrics.push_back({name, n, MetricKind::kCount}); }
  void rate(const std::string& name, double num, double den) {
    g_.metrics.push_back({name, den > 0 ? std::optional<double>(num / den) : std::nullopt, MetricKind::kRate});
  }
  void rate(const std::string& name, std::optional<double> v) { g_.metrics.push_back({name, v, MetricKind::kRate}); }
  void value(const std::string& name, std::optional<double> v) { g_.metrics.push_back({name, v, MetricKind::kValue}); }
  MetricGroup take() { return std::move(g_); }

 private:
  MetricGroup g_;
};

bool valid(const std::optional<Decision>& d) { return d && d->valid; }
bool right(const std::optional<Decision>& d, const std::optional<double>& label) {
  return label && valid(d) && d->code == static_cast<int>(*label);
}

MetricGroup pairwise_group(const std::string& name, const std::vector<const ItemOutcome*>& items, bool swap) {
  double n = 0, n_labeled = 0, ab = 0, ba = 0, consistent_right = 0, consistent = 0, score_rule = 0;
  double invalid_ab = 0, invalid_ba = 0;
  // Decisions by where the right answer was shown: a judge that favours one position is right
  // more often when the right answer sits there (accuracy_ab and _ba cannot show this when labels
  // are balanced: both mix the two positions).
  double first_n = 0, first_right = 0, second_n = 0, second_right = 0;
  for (const ItemOutcome* o : items) {
    ++n;
    if (o->label) {
      for (const auto* d : {&o->as_given, &o->swapped}) {
        if (!*d) continue;
        bool shown_first = ((*d)->order == Order::kAsGiven) == (*o->label == kOptionA);
        (shown_first ? first_n : second_n) += 1;
        (shown_first ? first_right : second_right) += right(*d, o->label);
      }
    }
    invalid_ab += !valid(o->as_given);
    invalid_ba += swap && !valid(o->swapped);
    bool agree = valid(o->as_given) && valid(o->swapped) && o->as_given->code == o->swapped->code;
    consistent += agree;
    if (!o->label) continue;
    ++n_labeled;
    bool r1 = right(o->as_given, o->label), r2 = right(o->swapped, o->label);
    ab += r1;
    ba += r2;
    consistent_right += agree && r1;
    // JudgeBench's rule: +1 per right decision, -1 per wrong one, 0 for invalid; correct if > 0.
    int s = (r1 ? 1 : valid(o->as_given) ? -1 : 0) + (r2 ? 1 : valid(o->swapped) ? -1 : 0);
    score_rule += s > 0;
  }
  GroupBuilder g(name);
  g.count("n_pairs", n);
  g.count("n_labeled", n_labeled);
  if (swap) {
    g.rate("accuracy_consistent", consistent_right, n_labeled);
    g.rate("accuracy_ab", ab, n_labeled);
    g.rate("accuracy_ba", ba, n_labeled);
    g.rate("accuracy_mean_of_orders", (ab + ba) / 2, n_labeled);
    g.rate("accuracy_score_rule", score_rule, n_labeled);
    g.rate("consistency_rate", consistent, n);
    g.count("invalid_ab", invalid_ab);
    g.count("invalid_ba", invalid_ba);
  } else {
    g.rate("accuracy", ab, n_labeled);
    g.count("invalid", invalid_ab);
  }
  g.rate("accuracy_right_shown_first", first_right, first_n);
  g.rate("accuracy_right_shown_second", second_right, second_n);
  std::optional<double> gap;
  if (first_n > 0 && second_n > 0) gap = first_right / first_n - second_right / second_n;
  g.rate("position_bias_gap", gap);
  return g.take();
}

MetricGroup step_group(const std::string& name, const std::vector<const ItemOutcome*>& items) {
  double n_err = 0, n_ok = 0, right_err = 0, right_ok = 0, invalid = 0;
  for (const ItemOutcome* o : items) {
    invalid += !valid(o->as_given);
    if (!o->label) continue;
    bool r = right(o->as_given, o->label);
    if (*o->label == kNoError) {
      ++n_ok;
      right_ok += r;
    } else {
      ++n_err;
      right_err += r;
    }
  }
  GroupBuilder g(name);
  g.count("n", static_cast<double>(items.size()));
  g.count("n_erroneous", n_err);
  g.count("n_correct", n_ok);
  g.rate("accuracy_erroneous", right_err, n_err);
  g.rate("accuracy_correct", right_ok, n_ok);
  std::optional<double> f1;
  if (n_err > 0 && n_ok > 0) f1 = harmonic_mean(right_err / n_err, right_ok / n_ok);
  g.rate("f1", f1);
  g.count("invalid", invalid);
  return g.take();
}

MetricGroup verify_group(const std::string& name, const std::vector<const ItemOutcome*>& items) {
  double n_labeled = 0, right_n = 0, pred_correct = 0, tp = 0, label_correct = 0, label_incorrect = 0, tn = 0;
  double invalid = 0;
  for (const ItemOutcome* o : items) {
    invalid += !valid(o->as_given);
    if (!o->label) continue;
    ++n_labeled;
    bool says_correct = valid(o->as_given) && o->as_given->code == kCorrect;
    bool says_incorrect = valid(o->as_given) && o->as_given->code == kIncorrect;
    bool is_correct = *o->label == kCorrect;
    right_n += right(o->as_given, o->label);
    pred_correct += says_correct;
    label_correct += is_correct;
    label_incorrect += !is_correct;
    tp += says_correct && is_correct;
    tn += says_incorrect && !is_correct;
  }
  GroupBuilder g(name);
  g.count("n", static_cast<double>(items.size()));
  g.count("n_labeled", n_labeled);
  g.rate("accuracy", right_n, n_labeled);
  g.rate("precision_correct", tp, pred_correct);
  g.rate("recall_correct", tp, label_correct);
  g.rate("accuracy_on_incorrect", tn, label_incorrect);
  std::optional<double> f1;
  if (pred_correct > 0 && label_correct > 0) f1 = harmonic_mean(tp / pred_correct, tp / label_correct);
  g.rate("f1_correct", f1);
  g.count("n_predicted_correct", pred_correct);
  g.count("invalid", invalid);
  return g.take();
}

MetricGroup rating_group(const std::string& name, const std::vector<const ItemOutcome*>& items) {
  std::vector<double> ratings, lx, ly;
  double invalid = 0;
  for (const ItemOutcome* o : items) {
    if (!valid(o->as_given)) {
      ++invalid;
      continue;
    }
    ratings.push_back(o->as_given->code);
    if (o->label) {
      lx.push_back(o->as_given->code);
      ly.push_back(*o->label);
    }
  }
  GroupBuilder g(name);
  g.count("n", static_cast<double>(items.size()));
  g.count("n_rated", static_cast<double>(ratings.size()));
  std::optional<double> mean, sd, lo, hi;
  if (!ratings.empty()) {
    mean = std::accumulate(ratings.begin(), ratings.end(), 0.0) / ratings.size();
    lo = *std::min_element(ratings.begin(), ratings.end());
    hi = *std::max_element(ratings.begin(), ratings.end());
  }
  if (ratings.size() > 1) {
    double ss = 0;
    for (double r : ratings) ss += (r - *mean) * (r - *mean);
    sd = std::sqrt(ss / (ratings.size() - 1));
  }
  g.value("mean", mean);
  g.value("stddev", sd);
  g.value("min", lo);
  g.value("max", hi);
  if (!lx.empty()) {
    double abs_err = 0;
    for (size_t i = 0; i < lx.size(); ++i) abs_err += std::fabs(lx[i] - ly[i]);
    g.count("n_labeled_rated", static_cast<double>(lx.size()));
    g.value("pearson", pearson(lx, ly));
    g.value("spearman", spearman(lx, ly));
    g.value("mean_abs_error", abs_err / lx.size());
  }
  g.count("invalid", invalid);
  return g.take();
}

MetricGroup group_for(Task task, const std::string& name, const std::vector<const ItemOutcome*>& items, bool swap) {
  switch (task) {
    case Task::kPairwise: return pairwise_group(name, items, swap);
    case Task::kStep: return step_group(name, items);
    case Task::kVerify:
    case Task::kVerifyRef: return verify_group(name, items);
    case Task::kRating: return rating_group(name, items);
  }
  return {};
}

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

}  // namespace

std::optional<double> MetricGroup::get(const std::string& metric) const {
  for (const Metric& m : metrics)
    if (m.name == metric) return m.value;
  return std::nullopt;
}

const MetricGroup* Metrics::group(const std::string& name) const {
  for (const MetricGroup& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

double harmonic_mean(double a, double b) { return a + b > 0 ? 2 * a * b / (a + b) : 0.0; }

std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  FARE_CHECK(x.size() == y.size(), "pearson on ", x.size(), " and ", y.size(), " values");
  if (x.size() < 2) return std::nullopt;
  double n = static_cast<double>(x.size());
  double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;  // a constant series has no correlation
  return sxy / std::sqrt(sxx * syy);
}

std::optional<double> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  return pearson(ranks(x), ranks(y));
}

Metrics compute_metrics(Task task, const std::vector<ItemOutcome>& outcomes, bool swap) {
  swap = swap && task == Task::kPairwise;
  Metrics m;
  std::vector<const ItemOutcome*> all;
  std::map<std::string, std::vector<const ItemOutcome*>> by_subset, by_difficulty;
  for (const ItemOutcome& o : outcomes) {
    all.push_back(&o);
    if (!o.subset.empty()) by_subset[o.subset].push_back(&o);
    if (!o.difficulty.empty()) by_difficulty[o.difficulty].push_back(&o);
  }
  m.groups.push_back(group_for(task, "overall", all, swap));
  for (const auto& [name, items] : by_subset) m.groups.push_back(group_for(task, "subset=" + name, items, swap));
  for (const auto& [name, items] : by_difficulty)
    m.groups.push_back(group_for(task, "difficulty=" + name, items, swap));

  MetricGroup& overall = m.groups.front();
  switch (task) {
    case Task::kPairwise: m.headline_name = swap ? "accuracy_consistent" : "accuracy"; break;
    case Task::kStep: {
      // ProcessBench's headline: the mean over subsets of each subset's F1.
      std::vector<double> f1s;
      for (const MetricGroup& g : m.groups)
        if (g.name.starts_with("subset=") && g.get("f1")) f1s.push_back(*g.get("f1"));
      std::optional<double> mean_f1;
      if (!f1s.empty() && f1s.size() == by_subset.size())
        mean_f1 = std::accumulate(f1s.begin(), f1s.end(), 0.0) / f1s.size();
      overall.metrics.push_back({"f1_mean_over_subsets", mean_f1, MetricKind::kRate});
      m.headline_name = by_subset.empty() ? "f1" : "f1_mean_over_subsets";
      break;
    }
    case Task::kVerify:
    case Task::kVerifyRef: m.headline_name = "accuracy"; break;
    case Task::kRating: m.headline_name = "mean"; break;
  }
  m.headline = overall.get(m.headline_name);
  return m;
}

JudgmentCounts count_judgments(const std::vector<const Judgment*>& judgments) {
  JudgmentCounts c;
  for (const Judgment* j : judgments) {
    ++c.n_judgments;
    c.prompt_tokens += j->prompt_tokens;
    c.completion_tokens += j->completion_tokens;
    c.seconds += j->seconds;
    if (j->finish_reason == "length") ++c.n_cut_off;
    if (!j->error.empty()) ++c.n_backend_errors;
    if (!j->valid) {
      ++c.n_invalid;
      ++c.invalid_reasons[j->verdict.invalid_reason];
    }
  }
  return c;
}

ojson metrics_to_json(const Metrics& m) {
  ojson groups = ojson::object();
  for (const MetricGroup& g : m.groups) {
    ojson values = ojson::object();
    for (const Metric& x : g.metrics) values[x.name] = x.value ? ojson(*x.value) : ojson(nullptr);
    groups[g.name] = values;
  }
  return {{"headline", {{"name", m.headline_name}, {"value", m.headline ? ojson(*m.headline) : ojson(nullptr)}}},
          {"groups", groups}};
}

ojson counts_to_json(const JudgmentCounts& c) {
  return {{"judgments", c.n_judgments},     {"invalid", c.n_invalid},
          {"cut_off", c.n_cut_off},         {"backend_errors", c.n_backend_errors},
          {"invalid_reasons", c.invalid_reasons},
          {"prompt_tokens", c.prompt_tokens}, {"completion_tokens", c.completion_tokens},
          {"seconds", c.seconds}};
}

}  // namespace fare::judge
