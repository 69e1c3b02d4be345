#include "common/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace fare {
namespace {

struct Chunk {
  int64_t begin, end;
};

std::vector<Chunk> run(ThreadPool& pool, int64_t n, int64_t grain, std::vector<std::atomic<int>>& hits) {
  std::mutex mu;
  std::vector<Chunk> chunks;
  pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
    std::lock_guard lock(mu);
    chunks.push_back({b, e});
  });
  std::sort(chunks.begin(), chunks.end(), [](const Chunk& a, const Chunk& b) { return a.begin < b.begin; });
  return chunks;
}

TEST(ThreadPoolTest, EveryIndexOnceInOddMultiplesOfTheGrain) {
  for (int threads : {1, 2, 3, 16}) {
    ThreadPool pool(threads);
    for (int64_t grain : {1, 8, 32}) {
      for (int64_t n : {1, 7, 8, 9, 100, 1024, 4096, 12289}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        const std::vector<Chunk> chunks = run(pool, n, grain, hits);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i << " of " << n;
        ASSERT_FALSE(chunks.empty());
        EXPECT_EQ(chunks.front().begin, 0);
        EXPECT_EQ(chunks.back().end, n);
        for (size_t c = 0; c < chunks.size(); ++c) {
          const int64_t size = chunks[c].end - chunks[c].begin;
          if (c + 1 < chunks.size()) {
            EXPECT_EQ(chunks[c].end, chunks[c + 1].begin);
            // Only the last chunk may be cut short by n.
            EXPECT_EQ(size % grain, 0) << "chunk at " << chunks[c].begin << " of " << n;
            if (n > grain) {
              EXPECT_EQ((size / grain) % 2, 1) << "chunk at " << chunks[c].begin << " of " << n;
            }
          }
        }
      }
    }
  }
}

TEST(ThreadPoolTest, ChunksShrinkSoThreadsFinishTogether) {
  ThreadPool pool(4);
  const int64_t n = 4096;
  std::vector<std::atomic<int>> hits(n);
  const std::vector<Chunk> chunks = run(pool, n, 8, hits);
  // The first chunk is about an eighth of the work (1 / (2 x threads)), the last ones a grain.
  EXPECT_EQ(chunks.front().end - chunks.front().begin, 520);  // 4096 / 8 = 512 -> odd multiple of 8
  EXPECT_LE(chunks.back().end - chunks.back().begin, 8);
  for (size_t c = 1; c < chunks.size(); ++c)
    EXPECT_LE(chunks[c].end - chunks[c].begin, chunks[c - 1].end - chunks[c - 1].begin);
}

TEST(ThreadPoolTest, RegionsBackToBackAndEmptyRegions) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { sum.fetch_add(1000000); });
  for (int r = 0; r < 500; ++r)
    pool.parallel_for(64, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
    });
  EXPECT_EQ(sum.load(), 500 * (63 * 64 / 2));
}

}  // namespace
}  // namespace fare
