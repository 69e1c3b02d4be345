// What `fare bench` measures about the machine and the process, next to the model's speed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fare::cli {

struct Bandwidth {
  double read_gbs = 0;  // streaming reads of a buffer far larger than the caches (what decode does)
  double copy_gbs = 0;  // memcpy, counting the bytes read plus the bytes written
};

// Best of `reps` passes over a `bytes` buffer split between `n_threads` threads.
Bandwidth measure_bandwidth(int n_threads, size_t bytes, int reps);

// A buffer kept for read-bandwidth probes taken right next to the runs they are compared with:
// on a shared machine the bandwidth moves from one minute to the next. Allocated and touched
// once, so every probe reads resident memory and none allocates.
class ReadProbe {
 public:
  explicit ReadProbe(size_t bytes);
  double read_gbs(int n_threads, int passes) const;  // best of `passes`
  size_t bytes() const { return words_ * 8; }

 private:
  std::unique_ptr<uint64_t[]> data_;
  size_t words_;
};

// The last-level (L3) caches of the CPUs this process may see, summed over their instances; 0
// when sysfs does not tell.
size_t last_level_cache_bytes();
// A buffer for bandwidth probes: `floor` bytes, or 4x the L3 where that is more (a probe that
// fits in the cache measures the cache), but at most an eighth of the memory.
size_t probe_buffer_bytes(size_t floor);

size_t peak_rss_bytes();  // VmHWM; 0 when /proc is not readable
bool reset_peak_rss();    // restarts VmHWM from the current RSS (Linux clear_refs); false if refused
std::string cpu_model();  // "model name" of /proc/cpuinfo, or ""

}  // namespace fare::cli
