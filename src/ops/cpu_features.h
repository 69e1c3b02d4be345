// What the CPU (and the OS, which must save the wider registers) lets the kernels use. Detected
// once per process; the kernel table is chosen from it.
#pragma once

#include <string>

namespace fare {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512_vnni = false;
  bool avx_vnni = false;
  bool avx512_bf16 = false;
  bool amx_tile = false;
  bool amx_int8 = false;
  bool amx_bf16 = false;
  // AMX tile data is off by default on Linux: a process must ask for it (arch_prctl) before the
  // first tile instruction. True once granted; amx_* above are false when it was refused.
  bool amx_granted = false;
  // How far ahead of its position a decode kernel's row stream is prefetched. Measured with
  // bench_kernels --chain 8 --types Q8_0, two threads: 8 KiB best on a Zen 5 (shorter left the
  // core waiting), 2 KiB on a Sapphire Rapids-class Xeon VM (23.5-23.8 GB/s against 17.5-17.8
  // at 8 KiB). Intel CPUs take 2 KiB, the others 8 KiB.
  int decode_prefetch_bytes = 8192;
};

// Detected on first call (CPUID + XGETBV, and the AMX permission request on Linux).
const CpuFeatures& cpu_features();

// Space-separated names of the features present, e.g. "avx2 fma f16c avx512f ...".
std::string describe(const CpuFeatures& f);

}  // namespace fare
