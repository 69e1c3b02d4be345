#include "judge/report_stats.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace fare::judge {

namespace {

using Draws = std::map<MetricKey, std::vector<double>>;

void add_draws(const Metrics& m, Draws& draws, const Metrics* minus = nullptr) {
  for (const MetricGroup& g : m.groups) {
    const MetricGroup* other = minus ? minus->group(g.name) : nullptr;
    if (minus && !other) continue;
    for (const Metric& x : g.metrics) {
      if (x.kind == MetricKind::kCount || !x.value) continue;
      if (!minus) {
        draws[{g.name, x.name}].push_back(*x.value);
      } else if (std::optional<double> base = other->get(x.name)) {
        draws[{g.name, x.name}].push_back(*x.value - *base);
      }
    }
  }
}

MetricIntervals intervals_of(Draws& draws, int resamples) {
  MetricIntervals out;
  for (auto& [key, values] : draws)
    if (std::optional<Interval> iv = percentile_interval(std::move(values), resamples)) out[key] = *iv;
  return out;
}

// Copies without the strings that metrics never read, so that a resample copies little.
std::vector<ItemOutcome> lean(const std::vector<ItemOutcome>& outcomes) {
  std::vector<ItemOutcome> out = outcomes;
  for (ItemOutcome& o : out) {
    o.item_id.clear();
    for (auto* d : {&o.as_given, &o.swapped}) {
      if (!*d) continue;
      (*d)->item_id.clear();
      (*d)->invalid_reason.clear();
    }
  }
  return out;
}

std::vector<std::string> strata_of(const std::vector<ItemOutcome>& outcomes) {
  std::vector<std::string> strata;
  strata.reserve(outcomes.size());
  for (const ItemOutcome& o : outcomes) strata.push_back(o.subset);
  return strata;
}

std::vector<ItemOutcome> pick(const std::vector<ItemOutcome>& from, const std::vector<size_t>& idx) {
  std::vector<ItemOutcome> out;
  out.reserve(idx.size());
  for (size_t i : idx) out.push_back(from[i]);
  return out;
}

}  // namespace

Resampler::Resampler(const std::vector<std::string>& strata, uint64_t seed) : rng_(seed) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < strata.size(); ++i) {
    auto [it, added] = index.emplace(strata[i], groups_.size());
    if (added) groups_.emplace_back();
    groups_[it->second].push_back(i);
  }
}

std::vector<size_t> Resampler::next() {
  std::vector<size_t> out;
  for (const std::vector<size_t>& g : groups_)
    for (size_t k = 0; k < g.size(); ++k) out.push_back(g[rng_() % g.size()]);
  return out;
}

std::optional<Interval> percentile_interval(std::vector<double> draws, int resamples) {
  if (draws.empty() || 2 * draws.size() < static_cast<size_t>(resamples)) return std::nullopt;
  std::sort(draws.begin(), draws.end());
  auto quantile = [&](double q) {
    double pos = q * static_cast<double>(draws.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, draws.size() - 1);
    return draws[lo] + (draws[hi] - draws[lo]) * (pos - static_cast<double>(lo));
  };
  return Interval{quantile(0.025), quantile(0.975)};
}

MetricIntervals bootstrap_metrics(Task task, const std::vector<ItemOutcome>& outcomes, bool swap,
                                  const BootstrapOptions& opts) {
  if (outcomes.empty()) return {};
  const std::vector<ItemOutcome> base = lean(outcomes);
  Resampler resampler(strata_of(outcomes), opts.seed);
  Draws draws;
  for (int r = 0; r < opts.resamples; ++r) add_draws(compute_metrics(task, pick(base, resampler.next()), swap), draws);
  return intervals_of(draws, opts.resamples);
}

MetricIntervals bootstrap_differences(Task task, const std::vector<ItemOutcome>& a, bool swap_a,
                                      const std::vector<ItemOutcome>& b, bool swap_b, const BootstrapOptions& opts) {
  FARE_CHECK(a.size() == b.size(), "paired bootstrap of ", a.size(), " and ", b.size(), " items");
  if (a.empty()) return {};
  const std::vector<ItemOutcome> base_a = lean(a), base_b = lean(b);
  Resampler resampler(strata_of(a), opts.seed);
  Draws draws;
  for (int r = 0; r < opts.resamples; ++r) {
    std::vector<size_t> idx = resampler.next();
    Metrics ma = compute_metrics(task, pick(base_a, idx), swap_a);
    Metrics mb = compute_metrics(task, pick(base_b, idx), swap_b);
    add_draws(mb, draws, &ma);
  }
  return intervals_of(draws, opts.resamples);
}

std::optional<Interval> bootstrap_mean(const std::vector<double>& values, const BootstrapOptions& opts) {
  if (values.empty()) return std::nullopt;
  Resampler resampler(std::vector<std::string>(values.size()), opts.seed);
  std::vector<double> means;
  means.reserve(opts.resamples);
  for (int r = 0; r < opts.resamples; ++r) {
    double sum = 0;
    for (size_t i : resampler.next()) sum += values[i];
    means.push_back(sum / static_cast<double>(values.size()));
  }
  return percentile_interval(std::move(means), opts.resamples);
}

double binomial_two_sided_p(int k, int n) {
  FARE_CHECK(k >= 0 && 2 * k <= n, "binomial tail of ", k, " in ", n);
  double tail = 0;
  for (int i = 0; i <= k; ++i)
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  return std::min(1.0, 2 * tail);
}

McNemar mcnemar(const std::vector<bool>& right_a, const std::vector<bool>& right_b) {
  FARE_CHECK(right_a.size() == right_b.size(), "McNemar on ", right_a.size(), " and ", right_b.size(), " pairs");
  McNemar m;
  for (size_t i = 0; i < right_a.size(); ++i) {
    if (right_a[i] && right_b[i]) ++m.both_right;
    else if (right_a[i]) ++m.only_a_right;
    else if (right_b[i]) ++m.only_b_right;
    else ++m.both_wrong;
  }
  int n = m.only_a_right + m.only_b_right;
  if (n > 0) {
    double d = std::fabs(static_cast<double>(m.only_a_right - m.only_b_right)) - 1;
    m.chi2 = std::max(0.0, d) * std::max(0.0, d) / n;
    m.p_value = binomial_two_sided_p(std::min(m.only_a_right, m.only_b_right), n);
  }
  return m;
}

}  // namespace fare::judge
