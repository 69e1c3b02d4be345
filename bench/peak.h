// The compute wall of the roofline: how many dot-product instructions per second this machine's
// cores retire when nothing else limits them.
#pragma once

namespace fare {

// Prints, for each 512-bit multiply-add instruction the CPU has (vfmadd231ps, vdpbf16ps,
// vpdpbusd), the rate one thread and `threads` threads retire it, and what that rate is in
// GFLOP/s (2 per multiply-add). Best of `reps`.
void print_peak_rates(int threads, int reps);

}  // namespace fare
