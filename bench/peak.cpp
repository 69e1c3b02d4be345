#include "peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "ops/cpu_features.h"

namespace fare {
namespace {

constexpr long kIters = 20'000'000;

enum class Op { Fma, Bf16, Vnni };

// Written in assembly: compiled code would add register moves or stores between the chains.
// 15 accumulators (zmm0-zmm14) and one operand (zmm15), all zero: no FP exceptions, no subnormals.
#define FARE_PEAK_STEP(INSN)                                                                            \
  INSN " %%zmm15, %%zmm15, %%zmm0\n\t" INSN " %%zmm15, %%zmm15, %%zmm1\n\t" INSN                         \
       " %%zmm15, %%zmm15, %%zmm2\n\t" INSN " %%zmm15, %%zmm15, %%zmm3\n\t" INSN                         \
       " %%zmm15, %%zmm15, %%zmm4\n\t" INSN " %%zmm15, %%zmm15, %%zmm5\n\t" INSN                         \
       " %%zmm15, %%zmm15, %%zmm6\n\t" INSN " %%zmm15, %%zmm15, %%zmm7\n\t" INSN                         \
       " %%zmm15, %%zmm15, %%zmm8\n\t" INSN " %%zmm15, %%zmm15, %%zmm9\n\t" INSN                         \
       " %%zmm15, %%zmm15, %%zmm10\n\t" INSN " %%zmm15, %%zmm15, %%zmm11\n\t" INSN                       \
       " %%zmm15, %%zmm15, %%zmm12\n\t" INSN " %%zmm15, %%zmm15, %%zmm13\n\t" INSN                       \
       " %%zmm15, %%zmm15, %%zmm14\n\t"
#define FARE_PEAK_LOOP(INSN)                                                                              \
  asm volatile(                                                                                           \
      "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"                                                             \
      "1:\n\t" FARE_PEAK_STEP(INSN) "dec %0\n\t"                                                        \
      "jnz 1b\n\t"                                                                                        \
      : "+r"(n)                                                                                           \
      :                                                                                                   \
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", \
        "xmm12", "xmm13", "xmm14", "xmm15", "cc")

constexpr int kChains = 15;

__attribute__((target("avx512f"))) void loop_fma(long n) { FARE_PEAK_LOOP("vfmadd231ps"); }
__attribute__((target("avx512f,avx512bf16"))) void loop_bf16(long n) { FARE_PEAK_LOOP("vdpbf16ps"); }
__attribute__((target("avx512f,avx512vnni"))) void loop_vnni(long n) { FARE_PEAK_LOOP("vpdpbusd"); }

#undef FARE_PEAK_LOOP
#undef FARE_PEAK_STEP

void run_op(Op op) {
  switch (op) {
    case Op::Fma: return loop_fma(kIters);
    case Op::Bf16: return loop_bf16(kIters);
    case Op::Vnni: return loop_vnni(kIters);
  }
}

// Instructions per second summed over `threads` threads, one loop each (best of reps).
double rate(int threads, Op op, int reps) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int t = 1; t < threads; ++t) ts.emplace_back([&] { run_op(op); });
    run_op(op);
    for (auto& t : ts) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(threads) * kIters * kChains / s);
  }
  return best;
}

}  // namespace

void print_peak_rates(int threads, int reps) {
  const CpuFeatures& f = cpu_features();
  if (!f.avx512f) {
    std::printf("peak rates: needs AVX-512\n");
    return;
  }
  struct Row {
    Op op;
    const char* name;
    int macs;  // multiply-adds per instruction
    bool present;
  };
  const Row rows[] = {{Op::Fma, "vfmadd231ps (f32)", 16, true},
                      {Op::Bf16, "vdpbf16ps (bf16)", 32, f.avx512_bf16},
                      {Op::Vnni, "vpdpbusd (int8)", 64, f.avx512_vnni}};
  std::printf("%-20s %14s %12s %14s %12s\n", "instruction, 512-bit", "1 thread G/s", "GFLOP/s", "all threads G/s",
              "GFLOP/s");
  for (const Row& row : rows) {
    if (!row.present) continue;
    const double one = rate(1, row.op, reps), all = rate(threads, row.op, reps);
    std::printf("%-20s %14.2f %12.1f %14.2f %12.1f\n", row.name, one / 1e9, one * 2 * row.macs / 1e9, all / 1e9,
                all * 2 * row.macs / 1e9);
  }
}

}  // namespace fare
