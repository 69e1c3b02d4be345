// What `fare bench` measures about the machine and the process, next to the model's speed.
#pragma once

#include <cstddef>
#include <string>

namespace fare::cli {

struct Bandwidth {
  double read_gbs = 0;  // streaming reads of a buffer far larger than the caches (what decode does)
  double copy_gbs = 0;  // memcpy, counting the bytes read plus the bytes written
};

// Best of `reps` passes over a `bytes` buffer split between `n_threads` threads.
Bandwidth measure_bandwidth(int n_threads, size_t bytes, int reps);

size_t peak_rss_bytes();  // VmHWM; 0 when /proc is not readable
bool reset_peak_rss();    // restarts VmHWM from the current RSS (Linux clear_refs); false if refused
std::string cpu_model();  // "model name" of /proc/cpuinfo, or ""

}  // namespace fare::cli
