#include "apps/cli/system_probe.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

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

// Runs fn(thread, begin, end) on n_threads threads over [0, n), without timing it.
template <typename Fn>
void split(int n_threads, size_t n, Fn fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t)
    threads.emplace_back([=] { fn(t, n * t / n_threads, n * (t + 1) / n_threads); });
  for (auto& th : threads) th.join();
}

// Runs fn(thread, begin, end) on n_threads threads over [0, n), `passes` times, and returns the
// shortest pass in seconds, from the first thread's start to the last one's end. The threads are
// started once and wait between passes, so a pass times the work alone: threads created for
// every pass cost 16 of them about a millisecond, a third of a 256 MiB read at 120 GB/s (on a
// 16-core Xeon the probe had read 95 GB/s while decode streamed 124).
template <typename Fn>
double best_pass_seconds(int n_threads, size_t n, int passes, Fn fn) {
  using Clock = std::chrono::steady_clock;
  const size_t slots = static_cast<size_t>(passes) * static_cast<size_t>(n_threads);
  std::vector<Clock::time_point> start(slots), end(slots);
  std::atomic<int> arrived{0}, released{-1};
  // Thread 0 (the caller) releases each pass once every thread waits for it, so no thread is
  // left spinning beside the readers while they run.
  auto body = [&](int t) {
    for (int p = 0; p < passes; ++p) {
      arrived.fetch_add(1, std::memory_order_acq_rel);
      if (t == 0) {
        while (arrived.load(std::memory_order_acquire) < n_threads * (p + 1)) std::this_thread::yield();
        released.store(p, std::memory_order_release);
      }
      while (released.load(std::memory_order_acquire) < p) std::this_thread::yield();
      const size_t i = static_cast<size_t>(p) * static_cast<size_t>(n_threads) + static_cast<size_t>(t);
      start[i] = Clock::now();
      fn(t, n * t / n_threads, n * (t + 1) / n_threads);
      end[i] = Clock::now();
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < n_threads; ++t) threads.emplace_back(body, t);
  body(0);
  for (auto& th : threads) th.join();
  double best = 0;
  for (int p = 0; p < passes; ++p) {
    const auto first = start.begin() + p * n_threads, last = end.begin() + p * n_threads;
    const double s = std::chrono::duration<double>(*std::max_element(last, last + n_threads) -
                                                   *std::min_element(first, first + n_threads))
                         .count();
    if (p == 0 || s < best) best = s;
  }
  return best;
}

// Best of `passes` reads of p[0, words) split between n_threads threads, in GB/s.
double best_read_gbs(const uint64_t* p, size_t words, int n_threads, int passes) {
  std::vector<uint64_t> sink(static_cast<size_t>(n_threads));
  const double t =
      best_pass_seconds(n_threads, words, passes, [&](int i, size_t b, size_t e) { sink[i] += sum_words(p + b, e - b); });
  volatile uint64_t keep = 0;
  for (uint64_t s : sink) keep = keep + s;
  (void)keep;
  return static_cast<double>(words * 8) / t / 1e9;
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
  split(n_threads, words, [&](int, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) src[i] = i;
    std::memset(dst.get() + b, 0, (e - b) * 8);
  });
  Bandwidth best;
  for (int r = 0; r < reps; ++r) {
    best.read_gbs = std::max(best.read_gbs, best_read_gbs(src.get(), words, n_threads, 1));
    const double tc = best_pass_seconds(n_threads, words, 1, [&](int, size_t b, size_t e) {
      std::memcpy(dst.get() + b, src.get() + b, (e - b) * 8);
    });
    best.copy_gbs = std::max(best.copy_gbs, 2.0 * static_cast<double>(words * 8) / tc / 1e9);
  }
  return best;
}

size_t last_level_cache_bytes() {
  // One entry per cache instance, told apart by the CPUs sharing it; sizes read "32768K".
  std::set<std::string> seen;
  size_t total = 0;
  const unsigned n_cpus = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned c = 0; c < n_cpus; ++c) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cache/index3/";
    std::ifstream shared(dir + "shared_cpu_list"), size(dir + "size");
    std::string cpus, text;
    if (!std::getline(shared, cpus) || !std::getline(size, text) || !seen.insert(cpus).second) continue;
    char* unit = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &unit, 10);
    const size_t scale = *unit == 'K' ? size_t{1} << 10 : *unit == 'M' ? size_t{1} << 20 : 1;
    total += static_cast<size_t>(v) * scale;
  }
  return total;
}

size_t probe_buffer_bytes(size_t floor) {
  const size_t want = std::max(floor, 4 * last_level_cache_bytes());
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const size_t cap = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) / 8 : want;
  return std::max(floor, std::min(want, cap));
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
