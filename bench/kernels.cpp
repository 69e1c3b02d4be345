// Micro-benchmark of the matrix kernels at FARE-8B shapes: decode (one token, memory bound:
// GB/s of weights streamed, next to this machine's measured read bandwidth) and prefill (a batch
// of tokens, compute bound: GFLOP/s), per weight type and kernel set, as ratios against the
// reference kernel timed in the same process. Best of several repetitions: the machine may be
// shared and noisy.
//
//   bench_kernels [--types Q8_0,Q4_K,Q6_K,BF16,MXFP4] [--sets all] [--reps 5] [--tokens 256]
//                 [--threads N] [--no-vocab] [--no-prefill] [--no-decode] [--chain LAYERS] [--peak]
//                 [--sequences N]
//
// --chain decodes one token through LAYERS layers of FARE-8B's seven matrices, each its own
// allocation, in the model's order: what a real decode step streams, with nothing left in cache
// from the previous product (the single-matrix decode rows above are partly served by the L3).
// --sequences N makes each decode row one step of N sequences decoding together: N tokens through
// the streaming kernels (GFLOP/s then says how close to the compute wall a batched step runs).
// --peak prints the rate the cores retire the kernels' multiply-add instructions (peak.h): the
// compute wall that prefill rates are compared with.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/error.h"
#include "common/half.h"
#include "common/page_buffer.h"
#include "common/thread_pool.h"
#include "ops/kernels.h"
#include "ops/matmul.h"
#include "peak.h"

namespace fare {
namespace {

struct Options {
  std::vector<DType> types = {DType::Q8_0, DType::Q4_K, DType::Q6_K, DType::BF16};
  std::vector<std::string> sets;  // empty: every set this CPU runs
  int reps = 5;
  int64_t tokens = 256;  // the engine's prefill micro-batch
  int threads = 0;
  bool vocab = true, prefill = true, decode = true;
  int chain = 0;  // layers of the decode chain; 0: none
  bool peak = false;
  int64_t sequences = 1;  // tokens of a decode row, all streamed
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b <= s.size()) {
    const size_t e = std::min(s.find(',', b), s.size());
    if (e > b) out.push_back(s.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

DType parse_type(const std::string& s) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F8_E4M3, DType::Q8_0, DType::Q4_0, DType::Q4_K,
                  DType::Q5_K, DType::Q6_K, DType::MXFP4})
    if (name(t) == s) return t;
  fail("unknown weight type '", s, "'");
}

// xorshift: fast enough to fill gigabytes.
struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15ull;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// Bytes in transparent huge pages where the kernel gives them, as the engine's weights are: a
// model file's mapping is in 2 MiB pages on Linux 6.18 with ext4 (FilePmdMapped in smaps), and
// the packed copies are PageBuffers. In 4 KiB pages one core decoded BF16 rows 8-12 % slower.
struct HugeBytes {
  PageBuffer pages{0};
  size_t n = 0;
  void resize(size_t bytes) {
    pages = PageBuffer(bytes);
    n = bytes;
  }
  uint8_t* data() const { return pages.data(); }
  size_t size() const { return n; }
  uint8_t& operator[](size_t i) { return pages.data()[i]; }
};

// Random bytes with every scale field set to a sane value, so products stay finite.
struct Matrix {
  HugeBytes data;
  std::vector<float> scales;
  WeightMatrix w;
  Matrix(DType t, int64_t rows, int64_t cols) {
    const size_t stride = row_bytes(t, cols), total = stride * static_cast<size_t>(rows);
    data.resize(total);
    Rng rng;
    for (size_t i = 0; i + 8 <= total; i += 8) {
      const uint64_t v = rng.next();
      std::memcpy(&data[i], &v, 8);
    }
    const uint16_t half_scale = f32_to_f16(0.01f), half_one = f32_to_f16(1.0f);
    const int bb = traits(t).block_bytes;
    for (size_t off = 0; off < total; off += static_cast<size_t>(bb)) {
      uint8_t* b = &data[off];
      switch (t) {
        case DType::F16: for (int i = 0; i < bb; i += 2) std::memcpy(b + i, &half_one, 2); break;
        case DType::BF16: b[1] = 0x3f; break;  // exponent of ~1
        case DType::F32: { const float one = 1.0f; std::memcpy(b, &one, 4); break; }
        case DType::F8_E4M3: b[0] &= 0x77; break;
        case DType::Q8_0: case DType::Q4_0: std::memcpy(b, &half_scale, 2); break;
        case DType::Q4_K: case DType::Q5_K: std::memcpy(b, &half_scale, 2); std::memcpy(b + 2, &half_scale, 2); break;
        case DType::Q6_K: std::memcpy(b + 208, &half_scale, 2); break;
        case DType::MXFP4: b[0] = 121; break;  // 2^-7: weights up to 12 / 128
        default: break;
      }
    }
    w = {t, rows, cols, data.data(), stride};
    if (t == DType::F8_E4M3) {
      w.scale_cols = (cols + 127) / 128;
      scales.assign(static_cast<size_t>((rows + 127) / 128 * w.scale_cols), 0.01f);
      w.block_scale = scales.data();
    }
  }
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Best time of `reps` runs of f.
template <class F>
double best_of(int reps, F&& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

// Read bandwidth with all threads: each sums its slice of a buffer far larger than the caches,
// requesting every line 8 KiB ahead as the decode kernels do.
double read_bandwidth(ThreadPool& pool, int reps) {
  std::vector<float> buf(size_t{1} << 28, 1.0f);  // 1 GiB
  std::atomic<float> sink{0};
  const double t = best_of(reps, [&] {
    pool.parallel_for(static_cast<int64_t>(buf.size()), 1 << 16, [&](int64_t b, int64_t e) {
      float s[16] = {};
      for (int64_t i = b; i + 16 <= e; i += 16) {
        __builtin_prefetch(&buf[static_cast<size_t>(i)] + 2048);
        for (int j = 0; j < 16; ++j) s[j] += buf[static_cast<size_t>(i + j)];
      }
      float total = 0;
      for (float v : s) total += v;
      sink.fetch_add(total);
    });
  });
  return static_cast<double>(buf.size() * sizeof(float)) / t / 1e9;
}

// memcpy bandwidth (bytes read + bytes written) with all threads.
double copy_bandwidth(ThreadPool& pool, int reps) {
  const size_t n = size_t{1} << 29;  // 512 MiB each way
  std::vector<uint8_t> src(n, 1), dst(n, 0);
  const double t = best_of(reps, [&] {
    pool.parallel_for(static_cast<int64_t>(n >> 20), 1, [&](int64_t b, int64_t e) {
      const size_t off = static_cast<size_t>(b) << 20;
      std::memcpy(&dst[off], &src[off], static_cast<size_t>(e - b) << 20);
    });
  });
  return 2.0 * static_cast<double>(n) / t / 1e9;
}

struct Shape {
  const char* what;
  int64_t rows, cols;
};

// w copied into a kernel set's packed layout, as a model loaded for that set holds it.
struct PackedCopy {
  PageBuffer bytes;
  WeightMatrix w;
  PackedCopy(const WeightMatrix& src, const WeightPacking& p) : bytes(p.bytes(src.rows, src.cols)), w(src) {
    p.pack(src, 0, src.rows, bytes.data());
    w.packed = bytes.data();
    w.packing = &p;
  }
};

// The name of a row: the set's, marked when it reads weights packed at load.
std::string row_name(const KernelSet& k, bool packed) { return std::string(k.name) + (packed ? "+packed" : ""); }

// One token through `layers` layers of q, k, v, o, gate, up, down: GB/s of weights streamed.
void chain(const Options& o, ThreadPool& pool, const std::vector<const KernelSet*>& sets) {
  const Shape layer[] = {{"q", 4096, 4096},      {"k", 1024, 4096},     {"v", 1024, 4096},   {"o", 4096, 4096},
                         {"gate", 12288, 4096}, {"up", 12288, 4096}, {"down", 4096, 12288}};
  for (DType t : o.types) {
    std::vector<Matrix> ms;
    double bytes = 0;
    for (int l = 0; l < o.chain; ++l)
      for (const Shape& s : layer) {
        ms.emplace_back(t, s.rows, s.cols);
        bytes += static_cast<double>(ms.back().data.size());
      }
    std::vector<float> x(12288, 0.5f), y(12288);
    Rng rng;
    for (auto& v : x) v = static_cast<float>(static_cast<int64_t>(rng.next() % 2001) - 1000) / 1000.0f;
    for (const KernelSet* k : sets) {
      std::vector<WeightMatrix> ws;
      for (const Matrix& m : ms) ws.push_back(m.w);
      const auto time = [&](bool packed) {
        const double secs = best_of(o.reps, [&] {
          for (const WeightMatrix& w : ws) matmul({&pool, k}, w, x.data(), 1, y.data());
        });
        std::printf("%-6s chain  %2d layers   %-20s %9.2f %9.1f\n", std::string(name(t)).c_str(), o.chain,
                    row_name(*k, packed).c_str(), secs * 1e3, bytes / secs / 1e9);
        std::fflush(stdout);
      };
      time(false);
      if (const WeightPacking* p = k->of(t).packing) {
        std::vector<PackedCopy> copies;
        copies.reserve(ms.size());
        ws.clear();
        for (const Matrix& m : ms) ws.push_back(copies.emplace_back(m.w, *p).w);
        time(true);
      }
    }
  }
}

void run(const Options& o) {
  ThreadPool pool(o.threads > 0 ? o.threads : ThreadPool::default_threads());
  if (o.peak) {
    print_peak_rates(pool.size(), o.reps);
    return;
  }
  std::vector<const KernelSet*> sets;
  for (const auto& k : kernel_sets()) {
    const bool named = std::find(o.sets.begin(), o.sets.end(), k.set->name) != o.sets.end();
    const bool wanted = o.sets.empty() ? k.supported : named;
    if (wanted) sets.push_back(&select_kernels(k.set->name));
  }
  std::printf("threads %d; kernel sets:", pool.size());
  for (const auto* s : sets) std::printf(" %s", s->name);
  std::printf("\nmemory bandwidth, all threads: read %.1f GB/s, memcpy %.1f GB/s (read + write)\n\n",
              read_bandwidth(pool, o.reps), copy_bandwidth(pool, o.reps));

  if (o.chain > 0) {
    std::printf("%-6s %-6s %-12s %-20s %9s %9s\n", "type", "phase", "matrices", "kernels", "ms", "GB/s");
    chain(o, pool, sets);
    return;
  }
  const std::vector<Shape> shapes = {{"attn q/o", 4096, 4096}, {"ffn gate/up", 12288, 4096}, {"ffn down", 4096, 12288}};
  std::printf("%-6s %-6s %-12s %-20s %9s %9s %9s %8s\n", "type", "phase", "shape", "kernels", "ms", "GB/s", "GFLOP/s",
              "x ref");
  for (DType t : o.types) {
    auto one = [&](const Shape& s, int64_t n_tok, int64_t n_stream, const char* phase) {
      Matrix m(t, s.rows, s.cols);
      std::vector<float> x(static_cast<size_t>(n_tok * s.cols)), y(static_cast<size_t>(n_tok * s.rows));
      Rng rng;
      for (auto& v : x) v = static_cast<float>(static_cast<int64_t>(rng.next() % 2001) - 1000) / 1000.0f;
      const double bytes = static_cast<double>(m.data.size());
      const double flops = 2.0 * static_cast<double>(s.rows) * static_cast<double>(s.cols) * static_cast<double>(n_tok);
      double ref_time = 0;
      for (const KernelSet* k : sets) {
        // The reference is slow at prefill; a single run there is precise enough as a baseline.
        const bool slow = std::string_view(k->name) == "reference" && n_tok > 1;
        const auto time = [&](const WeightMatrix& w, bool packed) {
          const double secs =
              best_of(slow ? 1 : o.reps, [&] { matmul({&pool, k}, w, x.data(), n_tok, n_stream, y.data()); });
          if (std::string_view(k->name) == "reference") ref_time = secs;
          char shape[32];
          std::snprintf(shape, sizeof shape, "%lldx%lld", static_cast<long long>(s.rows),
                        static_cast<long long>(s.cols));
          std::printf("%-6s %-6s %-12s %-20s %9.2f %9.1f %9.1f %8.2f\n", std::string(name(t)).c_str(), phase, shape,
                      row_name(*k, packed).c_str(), secs * 1e3, bytes / secs / 1e9, flops / secs / 1e9,
                      ref_time > 0 ? ref_time / secs : 0.0);
          std::fflush(stdout);
        };
        time(m.w, false);
        if (const WeightPacking* p = k->of(t).packing) time(PackedCopy(m.w, *p).w, true);
      }
    };
    if (o.decode) {
      const std::string phase = o.sequences == 1 ? "decode" : "dec x" + std::to_string(o.sequences);
      for (const Shape& s : shapes) one(s, o.sequences, o.sequences, phase.c_str());
      if (o.vocab) one({"output", 151936, 4096}, o.sequences, o.sequences, phase.c_str());
    }
    if (o.prefill)
      for (const Shape& s : shapes) one(s, o.tokens, o.tokens <= kGemvMaxTokens ? o.tokens : 0, "pp");
  }
}

}  // namespace
}  // namespace fare

int main(int argc, char** argv) {
  fare::Options o;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) fare::fail(a, " needs a value");
        return argv[++i];
      };
      if (a == "--types") {
        o.types.clear();
        for (const auto& t : fare::split(value())) o.types.push_back(fare::parse_type(t));
      } else if (a == "--sets") {
        const std::string v = value();
        if (v != "all") o.sets = fare::split(v);
      } else if (a == "--reps") o.reps = std::stoi(value());
      else if (a == "--tokens") o.tokens = std::stoll(value());
      else if (a == "--threads") o.threads = std::stoi(value());
      else if (a == "--no-vocab") o.vocab = false;
      else if (a == "--no-prefill") o.prefill = false;
      else if (a == "--no-decode") o.decode = false;
      else if (a == "--chain") o.chain = std::stoi(value());
      else if (a == "--peak") o.peak = true;
      else if (a == "--sequences") o.sequences = std::stoll(value());
      else fare::fail("unknown option ", a);
    }
    fare::run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
