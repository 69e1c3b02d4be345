// A persistent pool: the calling thread works too, so a pool of n threads starts n-1 workers.
// One parallel region at a time; regions are cheap enough to run per matrix product.
//
// Decode runs a few hundred regions per token, each a fraction of a millisecond, so waking
// sleeping workers through the OS would cost a visible share of the step. Idle workers therefore
// poll for a short while (kSpinMicros) before they sleep on a condition variable, and so does
// the caller waiting for the last worker. Short, because on a machine with more runnable threads
// than cores a polling thread only takes time from the ones doing the work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fare {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end) over [0, n) split in chunks whose sizes are odd multiples of `grain`
  // (the last one may be cut short at n); returns when all ran. Chunks shrink as the region
  // drains (see next_chunk).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Hardware threads available to this process (sched affinity), at least 1.
  static int default_threads();

  // How long an idle worker polls for the next region before it sleeps.
  static constexpr int kSpinMicros = 50;

 private:
  void worker_loop();
  void run_chunks();
  int64_t next_chunk(int64_t left) const;

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;                  // guards sleeping: a new generation is published under it
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};    // workers that have not finished the current region
  std::atomic<bool> stop_{false};
  // The current region, written before generation_ is bumped.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  std::atomic<int64_t> next_{0};
};

}  // namespace fare
