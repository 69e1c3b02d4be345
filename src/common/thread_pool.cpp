#include "common/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace fare {

namespace {

// One step of polling: a pause instruction at first, then yielding, which costs next to nothing
// on an idle core but hands a busy one to the threads that have work.
inline void relax(int spins) {
  if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
  } else {
    sched_yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::default_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Guided chunks: each takes about 1 / (2 * threads) of what is left. Equal chunks of a quarter
// of each thread's share left, on average, half a chunk of work to one thread while the others
// waited for it at the end of every region: with 16 threads decode lost 5-15 % that way, and idle
// workers that outlast their polling fall asleep and cost an OS wake-up on the next region.
// Large first chunks keep the per-chunk cost (a streaming kernel restarts its prefetch) rare.
// Odd multiples of the grain: threads starting on neighbouring chunks of rows then do not stream
// addresses a large power of two apart (rows of 8 KiB in chunks of 512 put them exactly 4 MiB
// apart, which can send both streams to the same DRAM banks).
int64_t ThreadPool::next_chunk(int64_t left) const {
  const int64_t share = (left + 2 * n_threads_ - 1) / (2 * n_threads_);
  return (((share + grain_ - 1) / grain_) | 1) * grain_;
}

void ThreadPool::run_chunks() {
  int64_t begin = next_.load(std::memory_order_relaxed);
  for (;;) {
    if (begin >= n_) return;
    const int64_t end = std::min(n_, begin + next_chunk(n_ - begin));
    if (next_.compare_exchange_weak(begin, end, std::memory_order_relaxed)) {
      (*fn_)(begin, end);
      begin = next_.load(std::memory_order_relaxed);
    }
  }
}

void ThreadPool::worker_loop() {
  using Clock = std::chrono::steady_clock;
  uint64_t seen = 0;
  for (;;) {
    // Poll first: the next region usually follows within microseconds.
    const auto deadline = Clock::now() + std::chrono::microseconds(kSpinMicros);
    uint64_t g = generation_.load(std::memory_order_acquire);
    for (int spins = 0; g == seen && !stop_.load(std::memory_order_relaxed); ++spins) {
      relax(spins);
      if ((spins & 15) == 15 && Clock::now() > deadline) {
        std::unique_lock lock(mu_);
        wake_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
      }
      g = generation_.load(std::memory_order_acquire);
    }
    if (stop_.load()) return;
    seen = g;
    run_chunks();
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mu_);  // pairs with the caller's check under the lock
      done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n);
    return;
  }
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  next_.store(0, std::memory_order_relaxed);
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    // Under the lock, so a worker checking its wait condition cannot miss the new generation.
    std::lock_guard lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  run_chunks();
  // Workers usually finish their last chunk within microseconds; poll, then sleep.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    relax(spins);
    if ((spins & 15) == 15 && std::chrono::steady_clock::now() > deadline) {
      std::unique_lock lock(mu_);
      done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }
  fn_ = nullptr;
}

}  // namespace fare
