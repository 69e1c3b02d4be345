// Every kernel set this CPU can run against the reference kernel, for every weight type, over
// shapes that are not multiples of the register tiles, 1..131 tokens, odd thread counts and
// misaligned pointers. Sets this CPU cannot run are skipped with the reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "common/thread_pool.h"
#include "ops/cpu_features.h"
#include "ops/dequant.h"
#include "ops/kernels.h"
#include "ops/matmul.h"
#include "support/kernel_set_params.h"
#include "support/random.h"

namespace fare {
namespace {

}  // namespace

// Test names and failure messages show the type's name.
void PrintTo(DType t, std::ostream* os) { *os << name(t); }

namespace {

constexpr DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::F8_E4M3, DType::Q8_0, DType::Q4_0,
                            DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K,    DType::MXFP4};

void put_f16(uint8_t* p, float v) {
  const uint16_t h = f32_to_f16(v);
  std::memcpy(p, &h, 2);
}

// A random but valid row of n values of type t: random bytes everywhere (every code pattern
// occurs), with the scale fields set to sane magnitudes so products stay finite.
void random_row(DType t, int64_t n, std::mt19937& rng, uint8_t* dst) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  const size_t bytes = row_bytes(t, n);
  for (size_t i = 0; i < bytes; ++i) dst[i] = static_cast<uint8_t>(byte(rng));
  const int64_t nb = n / traits(t).block_elems;
  switch (t) {
    case DType::F32:
      for (int64_t i = 0; i < n; ++i) {
        const float v = normal(rng);
        std::memcpy(dst + 4 * i, &v, 4);
      }
      break;
    case DType::F16:
      for (int64_t i = 0; i < n; ++i) put_f16(dst + 2 * i, normal(rng));
      break;
    case DType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(normal(rng));
        std::memcpy(dst + 2 * i, &h, 2);
      }
      break;
    case DType::F8_E4M3:
      for (int64_t i = 0; i < n; ++i)
        if ((dst[i] & 0x7f) == 0x7f) dst[i] &= 0xfe;  // no NaN codes
      break;
    case DType::Q8_0:
    case DType::Q4_0:
      for (int64_t b = 0; b < nb; ++b) put_f16(dst + b * traits(t).block_bytes, scale(rng));
      break;
    case DType::Q4_K:
    case DType::Q5_K:
      for (int64_t b = 0; b < nb; ++b) {
        uint8_t* x = dst + b * traits(t).block_bytes;
        put_f16(x, scale(rng) * 0.1f);
        put_f16(x + 2, scale(rng) * 0.1f);
      }
      break;
    case DType::Q6_K:
      for (int64_t b = 0; b < nb; ++b) put_f16(dst + b * 210 + 208, scale(rng) * 0.05f);
      break;
    case DType::Q8_K:
      for (int64_t b = 0; b < nb; ++b) {
        const float d = scale(rng);
        std::memcpy(dst + b * 292, &d, 4);
      }
      break;
    case DType::MXFP4:
      // Exponent bytes 118..122: scales 2^-10..2^-6, weights up to 12 * 2^-6 (gpt-oss's experts
      // use bytes near these); every nibble occurs in the random codes.
      for (int64_t b = 0; b < nb; ++b) dst[b * 17] = static_cast<uint8_t>(118 + byte(rng) % 5);
      break;
    default:
      FAIL() << "no generator for " << name(t);
  }
}

// A weight matrix whose data starts `misalign` bytes past an aligned address, plus FP8 scales.
struct TestMatrix {
  std::vector<uint8_t> storage;
  std::vector<float> scales;
  WeightMatrix w;

  TestMatrix(DType t, int64_t rows, int64_t cols, int misalign, uint32_t seed) {
    std::mt19937 rng(seed);
    const size_t stride = row_bytes(t, cols);
    storage.resize(stride * static_cast<size_t>(rows) + 64);
    uint8_t* base = storage.data() + misalign;
    for (int64_t r = 0; r < rows; ++r) random_row(t, cols, rng, base + stride * static_cast<size_t>(r));
    w = {t, rows, cols, base, stride};
    if (t == DType::F8_E4M3) {
      const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
      std::uniform_real_distribution<float> s(0.001f, 0.01f);
      for (int64_t i = 0; i < sr * sc; ++i) scales.push_back(s(rng));
      w.block_scale = scales.data();
      w.scale_cols = sc;
    }
  }
};

// Packs m in the layout `p` into `bytes` (64-byte aligned, as the model's packed weights are) in
// two calls, split at a row block, as threads split the work at load; the bytes past the packed
// size are poisoned so that a kernel reading past the layout fails the comparison.
void pack_in_two_ranges(const WeightPacking& p, WeightMatrix& w, std::vector<uint8_t>& bytes) {
  const size_t n = p.bytes(w.rows, w.cols);
  bytes.assign(n + 128, 0xff);
  uint8_t* dst = bytes.data() + (64 - reinterpret_cast<uintptr_t>(bytes.data()) % 64) % 64;
  std::fill(dst + n, bytes.data() + bytes.size(), uint8_t{0x7f});  // bf16 0x7f7f: a huge value
  const int64_t blocks = (w.rows + p.row_block - 1) / p.row_block, mid = std::min(w.rows, blocks / 2 * p.row_block);
  p.pack(w, 0, mid, dst);
  p.pack(w, mid, w.rows, dst);
  w.packed = dst;
  w.packing = &p;
}

// Floats at an address 4 bytes past 64-byte alignment (vector loads must not assume alignment).
struct Floats {
  std::vector<float> storage;
  float* p;
  explicit Floats(size_t n) : storage(n + 32, 0.0f), p(storage.data() + 1) {}
};

using test::randn;

void round_to_bf16(std::vector<float>& v) {
  for (float& f : v) f = bf16_to_f32(f32_to_bf16(f));
}

// What a kernel that rounds activations multiplies: x rounded the way matmul.cpp rounds it.
std::vector<float> rounded_activations(ActFormat f, const float* x, int64_t n_tokens, int64_t cols) {
  std::vector<float> out(x, x + n_tokens * cols);
  if (f == ActFormat::BF16 || f == ActFormat::BF16_TILES || f == ActFormat::BF16_PANELS) {
    for (auto& v : out) v = bf16_to_f32(f32_to_bf16(v));
  } else if (f == ActFormat::Q8 || f == ActFormat::Q8_PANELS || f == ActFormat::Q8_K4) {
    for (int64_t b = 0; b < n_tokens * cols / 32; ++b) {
      float* xb = out.data() + b * 32;
      float amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const float d = amax / 127.0f, id = amax > 0 ? 127.0f / amax : 0.0f;
      for (int i = 0; i < 32; ++i)
        xb[i] = d * static_cast<float>(std::clamp(static_cast<int>(std::nearbyint(xb[i] * id)), -127, 127));
    }
  }
  return out;
}

struct Shape {
  int64_t rows, cols, tokens;
  int threads;
};

std::string shape_name(const Shape& s) {
  return std::to_string(s.rows) + "x" + std::to_string(s.cols) + "_t" + std::to_string(s.tokens) + "_th" +
         std::to_string(s.threads);
}

// Columns are whole blocks of every type: multiples of 256, and 32 more for the 32-blocks. The
// last two shapes have more columns than a prefill kernel takes per packed tile (1024 int8, 512
// bf16) and more rows than one panel (128), so results accumulate across column chunks.
std::vector<Shape> shapes(DType t) {
  const bool k_quant = traits(t).block_elems == 256;
  const bool plain = traits(t).block_elems == 1;
  const int64_t c1 = k_quant ? 256 : 96, c2 = k_quant ? 768 : 288, c3 = k_quant ? 512 : (plain ? 77 : 544);
  const int64_t c4 = k_quant ? 1280 : 1056;
  return {{1, c1, 1, 1},   {7, c1, 2, 2},    {33, c2, 3, 3},  {45, c1, 4, 2},  {31, c3, 5, 2},
          {64, c2, 12, 1}, {65, c1, 13, 3},  {100, c3, 17, 2}, {33, c1, 24, 2}, {97, c2, 25, 3},
          {40, c3, 40, 2}, {129, c1, 7, 3}, {300, c4, 20, 3}, {257, c4, 6, 2}, {53, c3, 70, 2},
          {101, c1, 131, 3}, {9, c3, 1, 2},  {10, c4, 2, 1}};
}

// The set named `name` if this CPU runs it; else nullptr and the reason. "amx-*-emulated" are
// the AMX kernels on a model of the tile unit, which runs wherever AVX-512 does.
const KernelSet* find_set(const std::string& name, std::string& why) {
  if (name.ends_with("-emulated")) {
    why = "the emulated AMX kernels need AVX-512 VNNI and BF16";
    return amx_emulated_kernels(name);
  }
  for (const auto& k : kernel_sets())
    if (name == k.set->name) {
      why = "this CPU lacks " + k.needs + " for the " + name + " kernels";
      return k.supported ? k.set : nullptr;
    }
  why = "unknown set " + name;
  return nullptr;
}

class KernelSetTest : public ::testing::TestWithParam<std::tuple<std::string, DType>> {};

// The set's product against a float64 sum of the decoded weights times the activations as the
// kernel's path rounds them, over every shape; `packed`: on weights in the set's packed layout.
void check_against_reference(const KernelSet& set, DType type, bool packed) {
  uint32_t seed = 1;
  for (const Shape& s : shapes(type)) {
    SCOPED_TRACE(shape_name(s));
    ThreadPool pool(s.threads);
    TestMatrix m(type, s.rows, s.cols, static_cast<int>(seed % 7) + 1, seed);
    std::vector<uint8_t> packed_bytes;
    if (packed) pack_in_two_ranges(*set.of(type).packing, m.w, packed_bytes);
    const auto xv = randn(static_cast<size_t>(s.tokens * s.cols), seed + 1000);
    ++seed;
    Floats x(xv.size()), y(static_cast<size_t>(s.tokens * s.rows));
    std::copy(xv.begin(), xv.end(), x.p);
    matmul({&pool, &set}, m.w, x.p, s.tokens, y.p);

    // What the path multiplies: few tokens stream rows, more take the tile kernel; each path
    // has its activation format.
    const bool tile = s.tokens > kGemvMaxTokens;
    const ActFormat f = tile ? set.of(type).act : set.of(type).gemv_act;
    const auto xr = rounded_activations(f, x.p, s.tokens, s.cols);
    std::vector<float> row(static_cast<size_t>(s.cols));
    for (int64_t r = 0; r < s.rows; ++r) {
      dequantize_matrix_row(m.w, r, row.data());
      if (tile && set.of(type).gemm_weights_bf16) round_to_bf16(row);
      for (int64_t t = 0; t < s.tokens; ++t) {
        double want = 0, mag = 0;
        for (int64_t c = 0; c < s.cols; ++c) {
          const double p = static_cast<double>(row[c]) * xr[t * s.cols + c];
          want += p;
          mag += std::fabs(p);
        }
        // Float32 sums in another order than float64: the error of n terms stays below
        // about sqrt(n) * 2^-24 * sum|terms|; 1e-6 * sum|terms| covers n up to 768 with margin.
        // The same for every set and type: the int8 and bf16 paths are compared with the
        // activations rounded as they round them (rounded_activations) and the weights they
        // multiply, so what is left is float rounding; MXFP4's weights are exact in every path.
        ASSERT_NEAR(y.p[t * s.rows + r], want, 1e-6 * mag + 1e-30) << name(type) << " row " << r << " token " << t;
      }
    }
  }
}

TEST_P(KernelSetTest, MatchesReference) {
  const auto& [set_name, type] = GetParam();
  std::string why;
  const KernelSet* set = find_set(set_name, why);
  if (set == nullptr) GTEST_SKIP() << why;
  check_against_reference(*set, type, false);
}

TEST_P(KernelSetTest, MatchesReferenceOnPackedWeights) {
  const auto& [set_name, type] = GetParam();
  std::string why;
  const KernelSet* set = find_set(set_name, why);
  if (set == nullptr) GTEST_SKIP() << why;
  if (set->of(type).packing == nullptr) GTEST_SKIP() << set_name << " reads " << name(type) << " weights as stored";
  check_against_reference(*set, type, true);
}

// With one-hot activations every output is a single decoded weight: the exact sets must decode
// every type to the very floats the reference decoder gives, and so must the paths on bf16
// activations (1.0 is a bf16), or give those floats rounded to bf16 where the set says it
// multiplies them so (TypeKernels::gemm_weights_bf16).
TEST_P(KernelSetTest, DecodesBitExactly) {
  const auto& [set_name, type] = GetParam();
  std::string why;
  const KernelSet* set = find_set(set_name, why);
  if (set == nullptr) GTEST_SKIP() << why;
  ThreadPool pool(2);
  const int64_t rows = 35, cols = 256;
  const TestMatrix m(type, rows, cols, 3, 77);
  for (int64_t n_tok : {int64_t{3}, cols}) {  // the streaming kernel and the tile kernel
    const TypeKernels& k = set->of(type);
    const bool tile = n_tok > kGemvMaxTokens;
    const ActFormat f = tile ? k.act : k.gemv_act;
    if (f != ActFormat::F32 && f != ActFormat::BF16 && f != ActFormat::BF16_TILES && f != ActFormat::BF16_PANELS)
      continue;  // int8 blocks: 1.0 becomes 127 * (1 / 127)
    std::vector<float> x(static_cast<size_t>(n_tok * cols), 0.0f), y(static_cast<size_t>(n_tok * rows));
    for (int64_t t = 0; t < n_tok; ++t) x[t * cols + (t * 37) % cols] = 1.0f;
    matmul({&pool, set}, m.w, x.data(), n_tok, y.data());
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      dequantize_matrix_row(m.w, r, row.data());
      if (tile && k.gemm_weights_bf16) round_to_bf16(row);
      for (int64_t t = 0; t < n_tok; ++t)
        ASSERT_EQ(y[t * rows + r], row[(t * 37) % cols]) << name(type) << " row " << r << " token " << t;
    }
  }
}

// Decode steps of many sequences stream all their tokens through the streaming kernel, in groups
// of as many as one call takes (TypeKernels::gemv_packed_tokens): each token's result must be
// the bits it gets streamed alone, whatever group it falls in, on stored and on packed weights.
TEST_P(KernelSetTest, StreamedTokenIgnoresItsCompany) {
  const auto& [set_name, type] = GetParam();
  std::string why;
  const KernelSet* set = find_set(set_name, why);
  if (set == nullptr) GTEST_SKIP() << why;
  const int64_t rows = 37, cols = traits(type).block_elems == 256 ? 512 : 96, n_tok = 21;
  for (bool packed : {false, true}) {
    if (packed && set->of(type).packing == nullptr) continue;
    SCOPED_TRACE(packed ? "packed" : "stored");
    TestMatrix m(type, rows, cols, 2, 31);
    std::vector<uint8_t> packed_bytes;
    if (packed) pack_in_two_ranges(*set->of(type).packing, m.w, packed_bytes);
    ThreadPool pool(3);
    const auto x = randn(static_cast<size_t>(n_tok * cols), 32);
    std::vector<float> together(static_cast<size_t>(n_tok * rows), -1.0f), alone(static_cast<size_t>(rows), -2.0f);
    matmul({&pool, set}, m.w, x.data(), n_tok, n_tok, together.data());
    for (int64_t t = 0; t < n_tok; ++t) {
      matmul({&pool, set}, m.w, x.data() + t * cols, 1, 1, alone.data());
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_EQ(together[static_cast<size_t>(t * rows + r)], alone[static_cast<size_t>(r)]) << "token " << t << " row " << r;
    }
  }
}

std::vector<std::string> set_names() {
  std::vector<std::string> v = test::kernel_set_names();
  v.emplace_back("amx-int8-emulated");
  v.emplace_back("amx-bf16-emulated");
  return v;
}

INSTANTIATE_TEST_SUITE_P(AllSets, KernelSetTest,
                         ::testing::Combine(::testing::ValuesIn(set_names()), ::testing::ValuesIn(kTypes)),
                         [](const auto& p) {
                           return test::test_name(std::get<0>(p.param) + "_" + std::string(name(std::get<1>(p.param))));
                         });

// Products sharing their activations (q, k, v) run in one region, in groups of one type (and in
// calls of at most 8): every row as a product of its own gives it, bit for bit (rows are
// computed independently).
TEST(SharedInput, EqualsSeparateProducts) {
  const int64_t cols = 288;
  const TestMatrix a(DType::Q8_0, 45, cols, 1, 11), b(DType::Q8_0, 7, cols, 2, 12), c(DType::BF16, 33, cols, 3, 13),
      d(DType::Q8_0, 64, cols, 5, 14);
  const std::vector<const WeightMatrix*> ws = {&a.w, &b.w, &c.w, &d.w, &c.w, &a.w, &d.w, &b.w, &a.w, &c.w};
  for (const auto& info : kernel_sets()) {
    if (!info.supported) continue;
    for (int64_t n_tok : {int64_t{1}, int64_t{3}, int64_t{20}})
      for (int threads : {1, 3}) {
        SCOPED_TRACE(std::string(info.set->name) + " tokens " + std::to_string(n_tok) + " threads " +
                     std::to_string(threads));
        ThreadPool pool(threads);
        const auto x = randn(static_cast<size_t>(n_tok * cols), 99);
        std::vector<std::vector<float>> joint, alone;
        std::vector<Product> products;
        for (const WeightMatrix* w : ws) {
          joint.emplace_back(static_cast<size_t>(n_tok * w->rows), -1.0f);
          alone.emplace_back(static_cast<size_t>(n_tok * w->rows), -2.0f);
        }
        for (size_t i = 0; i < ws.size(); ++i) {
          products.push_back({ws[i], joint[i].data()});
          matmul({&pool, info.set}, *ws[i], x.data(), n_tok, alone[i].data());
        }
        matmul({&pool, info.set}, products, x.data(), n_tok);
        for (size_t i = 0; i < ws.size(); ++i) EXPECT_EQ(joint[i], alone[i]) << "matrix " << i;
      }
  }
}

TEST(QuantizeQ8, EverySetGivesTheReferenceBytes) {
  // Random rows plus values on rounding ties (x / scale = k + 0.5) and all-zero blocks.
  const int64_t cols = 512;
  auto x = randn(static_cast<size_t>(cols), 5);
  for (int64_t i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = (i == 0 ? 127.0f : static_cast<float>(i) + 0.5f);
  for (int64_t i = 64; i < 96; ++i) x[static_cast<size_t>(i)] = 0.0f;
  std::vector<int8_t> q0(cols), q1(cols);
  std::vector<float> s0(cols / 32), s1(cols / 32), m0(cols / 32), m1(cols / 32);
  std::vector<int32_t> b0(cols / 16), b1(cols / 16);
  quantize_q8_reference(x.data(), cols, 32, 16, q0.data(), s0.data(), m0.data(), b0.data());
  // max |x| = 127 in the first block: scale 1, q = round(x) with ties to even, so its codes sum to
  // 127 + (2 + 2 + 4 + 4 + ... + 30 + 30 + 32); the zero block gets zero codes and scale.
  EXPECT_EQ(s0[0], 1.0f);
  EXPECT_EQ(m0[0], 639.0f);
  EXPECT_EQ(s0[2], 0.0f);
  EXPECT_EQ(q0[70], 0);
  int checked = 0;
  for (const auto& k : kernel_sets()) {
    if (!k.supported || k.set->quantize_q8 == nullptr) continue;
    k.set->quantize_q8(x.data(), cols, 32, 16, q1.data(), s1.data(), m1.data(), b1.data());
    EXPECT_EQ(q0, q1) << k.set->name;
    EXPECT_EQ(s0, s1) << k.set->name;
    EXPECT_EQ(m0, m1) << k.set->name;
    EXPECT_EQ(b0, b1) << k.set->name;
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no set on this CPU has its own activation quantizer";
}

// Rows with the values whose rounding is special: ties to even both ways, NaNs (one whose
// rounding carry would reach the exponent), infinities, signed zeros, subnormals, the largest
// finite float (rounds to infinity).
std::vector<float> bf16_rounding_rows(int64_t n, int64_t cols) {
  auto x = randn(static_cast<size_t>(n * cols), 17);
  const uint32_t special[] = {0x3f808000u, 0x3f818000u, 0x7fc00000u, 0x7f80ffffu, 0xffffffffu, 0x7f800000u,
                              0xff800000u, 0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu};
  for (size_t i = 0; i < x.size(); i += 3) x[i] = std::bit_cast<float>(special[(i / 3) % std::size(special)]);
  return x;
}

TEST(Bf16Panels, ReferenceFollowsTheLayout) {
  // Acts::bf_panels' formula, value by value, with zeros past the last token and column.
  constexpr int64_t kT = kBf16PanelTokens, kP = kBf16PanelPairs;
  for (const auto& [n, cols] : {std::pair<int64_t, int64_t>{70, 515}, {3, 2}, {64, 1}}) {
    const auto x = bf16_rounding_rows(n, cols);
    const int64_t n_blocks = (n + kT - 1) / kT, pairs = (cols + 1) / 2;
    std::vector<uint32_t> out(static_cast<size_t>(n_blocks * kT * pairs), 0xdeadbeefu);
    for (int64_t b = 0; b < n_blocks; ++b) bf16_panel_block_reference(x.data(), n, cols, b, out.data());
    for (int64_t t = 0; t < n_blocks * kT; ++t)
      for (int64_t c = 0; c < 2 * pairs; ++c) {
        const int64_t p = c / 2, c0 = p / kP * kP, pc = std::min(kP, pairs - c0);
        const size_t at = static_cast<size_t>(((c0 * n_blocks + t / kT * pc + p - c0) * kT + t % kT) * 2 + c % 2);
        const uint16_t want = t < n && c < cols ? f32_to_bf16(x[static_cast<size_t>(t * cols + c)]) : 0;
        uint16_t got;
        std::memcpy(&got, reinterpret_cast<const uint8_t*>(out.data()) + 2 * at, 2);
        ASSERT_EQ(got, want) << "n " << n << " cols " << cols << " token " << t << " column " << c;
      }
  }
}

TEST(Bf16Panels, EverySetGivesTheReferenceBytes) {
  constexpr int64_t kT = kBf16PanelTokens;
  int checked = 0;
  for (const auto& k : kernel_sets()) {
    if (!k.supported || k.set->bf16_panel_block == nullptr) continue;
    // Partial token blocks and 16-token groups; odd widths, a last chunk shorter than 16 pairs,
    // several chunks.
    for (const int64_t n : {int64_t{1}, int64_t{17}, int64_t{64}, int64_t{130}})
      for (const int64_t cols : std::vector<int64_t>{1, 2, 31, 33, 64, 515, 1030, 4 * kBf16PanelPairs + 6}) {
        const auto x = bf16_rounding_rows(n, cols);
        const int64_t n_blocks = (n + kT - 1) / kT, size = n_blocks * kT * ((cols + 1) / 2);
        std::vector<uint32_t> want(static_cast<size_t>(size), 1u), got(static_cast<size_t>(size), 2u);
        for (int64_t b = n_blocks - 1; b >= 0; --b) {  // last first: a block writing past its own shows
          bf16_panel_block_reference(x.data(), n, cols, b, want.data());
          k.set->bf16_panel_block(x.data(), n, cols, b, got.data());
        }
        ASSERT_EQ(want, got) << k.set->name << ", " << n << " tokens x " << cols << " columns";
      }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no set on this CPU has its own BF16 panel writer";
}

TEST(KernelSelection, AutoIsFastAndExactIsSupported) {
  const KernelSet& a = select_kernels("auto");
  const KernelSet& e = select_kernels("exact");
  EXPECT_TRUE(e.exact);
  EXPECT_EQ(&select_kernels("fast"), &a);
  for (const auto& k : kernel_sets()) {
    if (k.set == &a || k.set == &e) {
      EXPECT_TRUE(k.supported) << k.set->name;
    }
    EXPECT_FALSE(k.set->exact && k.set->attend_rounds) << k.set->name << ": an exact set's attention rounds";
    for (const TypeKernels& t : k.set->types)
      EXPECT_FALSE(k.set->exact && t.gemm_weights_bf16) << k.set->name << ": an exact set rounds weights";
  }
  EXPECT_STREQ(select_kernels("reference").name, "reference");
  EXPECT_NE(supported_kernel_names().find("reference"), std::string::npos);
}

TEST(KernelSelection, UnknownNameListsWhatThisCpuRuns) {
  try {
    select_kernels("avx1024");
    FAIL() << "expected an error";
  } catch (const Error& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find("unknown kernel set 'avx1024'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(supported_kernel_names()), std::string::npos) << msg;
  }
}

TEST(KernelSelection, UnsupportedSetSaysWhatIsMissing) {
  for (const auto& k : kernel_sets()) {
    if (k.supported) continue;
    try {
      select_kernels(k.set->name);
      FAIL() << "expected an error for " << k.set->name;
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find(k.needs), std::string::npos) << err.what();
    }
    return;
  }
  GTEST_SKIP() << "this CPU runs every kernel set this build has";
}

TEST(CpuFeatures, ConsistentWithTheSetsOnOffer) {
  const CpuFeatures& f = cpu_features();
  // AVX-512 implies AVX2 on every CPU that has it; AMX needs the OS's permission first.
  EXPECT_TRUE(!f.avx512f || f.avx2);
  EXPECT_TRUE(!f.amx_tile || f.amx_granted);
  EXPECT_FALSE(describe(f).empty());
  std::printf("[cpu] %s; kernel sets: %s\n", describe(f).c_str(), supported_kernel_names().c_str());
}

}  // namespace
}  // namespace fare
