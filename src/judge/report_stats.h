// Uncertainty for reports: seeded bootstrap intervals of the benchmark metrics (recomputed with
// compute_metrics on every resample, so they describe exactly the numbers the summary holds), the
// paired bootstrap of two runs' differences, and McNemar's exact test.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "judge/metrics.h"

namespace fare::judge {

inline constexpr uint64_t kDefaultReportSeed = 1;
inline constexpr int kDefaultResamples = 1000;

struct BootstrapOptions {
  uint64_t seed = kDefaultReportSeed;
  int resamples = kDefaultResamples;
};

struct Interval {
  double lo = 0;
  double hi = 0;
};

// (group, metric), e.g. ("subset=gsm8k", "f1").
using MetricKey = std::pair<std::string, std::string>;
using MetricIntervals = std::map<MetricKey, Interval>;

// Draws resamples of n items with replacement, each stratum (e.g. a benchmark subset) keeping its
// size: benchmarks are built from fixed subsets, and ProcessBench's headline averages over them, so
// a resample without one of them would not be the same metric. Draws use mt19937_64 and a modulo,
// which every standard library computes alike: one seed gives one report everywhere.
class Resampler {
 public:
  Resampler(const std::vector<std::string>& strata, uint64_t seed);
  std::vector<size_t> next();

 private:
  std::vector<std::vector<size_t>> groups_;
  std::mt19937_64 rng_;
};

// The 2.5th and 97.5th percentiles (linear interpolation between order statistics); nullopt when
// fewer than half the resamples gave a value (a metric that is mostly undefined has no interval).
std::optional<Interval> percentile_interval(std::vector<double> draws, int resamples);

// Intervals of every rate and value metric of every group (counts have none).
MetricIntervals bootstrap_metrics(Task task, const std::vector<ItemOutcome>& outcomes, bool swap,
                                  const BootstrapOptions& opts);

// Two runs on the same items: a[i] and b[i] are the same item. The same resampled items are scored
// for both runs, and the intervals are of b - a.
MetricIntervals bootstrap_differences(Task task, const std::vector<ItemOutcome>& a, bool swap_a,
                                      const std::vector<ItemOutcome>& b, bool swap_b, const BootstrapOptions& opts);

// Interval of the mean of `values` (e.g. 0/1 correctness of the items in one bucket).
std::optional<Interval> bootstrap_mean(const std::vector<double>& values, const BootstrapOptions& opts);

// McNemar's test on paired right/wrong outcomes: only the discordant pairs count. The p-value is
// the exact two-sided binomial one (valid for any count); chi2 is the continuity-corrected
// statistic, given for comparison with other tools.
struct McNemar {
  int both_right = 0;
  int only_a_right = 0;
  int only_b_right = 0;
  int both_wrong = 0;
  double chi2 = 0;
  double p_value = 1;
};
McNemar mcnemar(const std::vector<bool>& right_a, const std::vector<bool>& right_b);

// P(X <= k or X >= n - k) for X ~ Binomial(n, 1/2), k <= n / 2; capped at 1.
double binomial_two_sided_p(int k, int n);

}  // namespace fare::judge
