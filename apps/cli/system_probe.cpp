#include "apps/cli/system_probe.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

namespace fare::cli {

namespace {

// A sum the compiler cannot drop, with independent lanes so that loads are the bottleneck, and
// each line requested 8 KiB ahead as the decode kernels do: the hardware prefetcher alone leaves
// a core well short of what it can read, and the reference must be the best read, not a slow one.
uint64_t sum_words(const uint64_t* p, size_t n) {
  constexpr size_t kAheadWords = 8192 / 8;
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __builtin_prefetch(p + i + kAheadWords);
    for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
  }
  for (; i < n; ++i) acc[0] += p[i];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

// Runs fn(thread, begin, end) on n_threads threads over [0, n) and returns the wall seconds.
template <typename Fn>
double timed_split(int n_threads, size_t n, Fn fn) {
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < n_threads; ++t)
    threads.emplace_back([=] { fn(t, n * t / n_threads, n * (t + 1) / n_threads); });
  for (auto& th : threads) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Best of `passes` reads of p[0, words) split between n_threads threads, in GB/s.
double best_read_gbs(const uint64_t* p, size_t words, int n_threads, int passes) {
  std::vector<uint64_t> sink(static_cast<size_t>(n_threads));
  double best = 0;
  for (int r = 0; r < passes; ++r) {
    const double t = timed_split(n_threads, words, [&](int i, size_t b, size_t e) { sink[i] += sum_words(p + b, e - b); });
    best = std::max(best, static_cast<double>(words * 8) / t / 1e9);
  }
  volatile uint64_t keep = 0;
  for (uint64_t s : sink) keep = keep + s;
  (void)keep;
  return best;
}

}  // namespace

ReadProbe::ReadProbe(size_t bytes) : data_(new uint64_t[bytes / 8]), words_(bytes / 8) {
  for (size_t i = 0; i < words_; ++i) data_[i] = i;
}

double ReadProbe::read_gbs(int n_threads, int passes) const {
  return best_read_gbs(data_.get(), words_, std::max(1, n_threads), passes);
}

Bandwidth measure_bandwidth(int n_threads, size_t bytes, int reps) {
  n_threads = std::max(1, n_threads);
  const size_t words = bytes / 8;
  std::unique_ptr<uint64_t[]> src(new uint64_t[words]), dst(new uint64_t[words]);
  // First touch from the measuring threads, so pages are mapped before timing.
  timed_split(n_threads, words, [&](int, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) src[i] = i;
    std::memset(dst.get() + b, 0, (e - b) * 8);
  });
  Bandwidth best;
  for (int r = 0; r < reps; ++r) {
    best.read_gbs = std::max(best.read_gbs, best_read_gbs(src.get(), words, n_threads, 1));
    const double tc = timed_split(n_threads, words, [&](int, size_t b, size_t e) {
      std::memcpy(dst.get() + b, src.get() + b, (e - b) * 8);
    });
    best.copy_gbs = std::max(best.copy_gbs, 2.0 * static_cast<double>(words * 8) / tc / 1e9);
  }
  return best;
}

size_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return static_cast<size_t>(std::stoull(line.substr(6))) * 1024;  // in kB
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? "" : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "";
}

}  // namespace fare::cli
