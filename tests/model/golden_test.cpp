// Every model variant against the float64 NumPy reference goldens of the fixtures, on every CPU
// kernel set this machine can run: top-20 log-prob ratios at every teacher-forced position,
// top-1 agreement where the reference is not near a tie, and greedy continuations up to the
// first near-tie.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/thread_pool.h"
#include "engine/engine.h"
#include "model/model.h"
#include "model/session.h"
#include "ops/kernels.h"
#include "support/derived_models.h"
#include "support/golden_check.h"
#include "support/kernel_set_params.h"
#include "support/xz.h"

namespace fare {
namespace {

using json = nlohmann::json;
using test::fixture;

using test::GoldenCheck;
using test::Measured;
using test::packs_any;
using test::rounds_activations;
using test::Tolerance;

struct Case {
  std::string golden;                 // golden variant name
  std::function<std::string()> path;  // model to load
  std::string label;
  Tolerance exact;    // F32 math on the decoded weights
  Tolerance rounded;  // kernels that round activations (int8 blocks or bf16), llama.cpp-like
};

// F32 math: 3x llama.cpp's F32 spread on the same weights.
constexpr Tolerance kTinyF32{1e-4, 5e-5, 1e-3};
constexpr Tolerance kMicroF32{5e-4, 5e-4, 5e-3};
constexpr Tolerance kMicroKQuant{1e-3, 5e-4, 0.01};  // Q4_K, Q6_K, Q4_K_M rows
// Rounded activations: 1.5x llama.cpp's own distance to the reference on that variant.
constexpr Tolerance kTinyQ8Act{0.5, 0.5, 0.2};
constexpr Tolerance kMicroBf16Act{0.5, 0.2, 0.1};
constexpr Tolerance kMicroQ8_0Act{1.0, 1.0, 0.5};
constexpr Tolerance kMicroQ4Act{2.0, 1.0, 0.5};     // Q4_0, Q4_K rows
constexpr Tolerance kMicroQ56Act{2.0, 1.0, 1.0};    // Q5_K, Q6_K, Q4_K_M rows
// tiny-qwen3 has no llama.cpp BF16 run to ground a row on; it takes micro-qwen3's BF16 row, the
// same rounding of the same kind of activations (measured: about a third of it).
constexpr Tolerance kTinyBf16Act = kMicroBf16Act;
// micro-qwen3-fp8 rounds activations only in its BF16 tied embedding (the output product).
constexpr Tolerance kMicroFp8Act = kMicroBf16Act;

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.label; }

std::function<std::string()> fx(const std::string& rel) {
  return [rel] { return fixture(rel); };
}

std::vector<Case> cases() {
  return {
      {"tiny-qwen3-bf16", fx("tiny-qwen3/hf-bf16"), "tiny_hf_bf16", kTinyF32, kTinyBf16Act},
      {"tiny-qwen3-q8_0", fx("tiny-qwen3/tiny-qwen3-q8_0.gguf"), "tiny_gguf_q8_0", kTinyF32, kTinyQ8Act},
      {"micro-qwen3-f32", fx("micro-qwen3/hf-bf16"), "micro_hf_bf16", kMicroF32, kMicroBf16Act},
      {"micro-qwen3-f32", test::micro_hf_f32, "micro_hf_f32", kMicroF32, kMicroF32},
      {"micro-qwen3-f32", test::micro_hf_sharded, "micro_hf_sharded", kMicroF32, kMicroBf16Act},
      {"micro-qwen3-f32", fx("micro-qwen3/micro-qwen3-f16.gguf"), "micro_gguf_f16", kMicroF32, kMicroF32},
      {"micro-qwen3-f32", test::micro_gguf_f32, "micro_gguf_f32", kMicroF32, kMicroF32},
      {"micro-qwen3-bf16", fx("micro-qwen3/micro-qwen3-bf16.gguf"), "micro_gguf_bf16", kMicroF32, kMicroBf16Act},
      {"micro-qwen3-q8_0", fx("micro-qwen3/micro-qwen3-q8_0.gguf"), "micro_gguf_q8_0", kMicroF32, kMicroQ8_0Act},
      {"micro-qwen3-q4_0", fx("micro-qwen3/micro-qwen3-q4_0.gguf"), "micro_gguf_q4_0", kMicroF32, kMicroQ4Act},
      {"micro-qwen3-q4_k", fx("micro-qwen3/micro-qwen3-q4_k.gguf"), "micro_gguf_q4_k", kMicroKQuant, kMicroQ4Act},
      {"micro-qwen3-q5_k", fx("micro-qwen3/micro-qwen3-q5_k.gguf"), "micro_gguf_q5_k", kMicroF32, kMicroQ56Act},
      {"micro-qwen3-q6_k", fx("micro-qwen3/micro-qwen3-q6_k.gguf"), "micro_gguf_q6_k", kMicroKQuant, kMicroQ56Act},
      {"micro-qwen3-q4_k_m", fx("micro-qwen3/micro-qwen3-q4_k_m.gguf"), "micro_gguf_q4_k_m", kMicroKQuant,
       kMicroQ56Act},
      {"micro-qwen3-fp8", fx("micro-qwen3/hf-fp8"), "micro_hf_fp8", kMicroF32, kMicroFp8Act},
  };
}

// The reference kernels are slow on the long prompts of tiny-qwen3 (a 151,936-row output
// matrix at every position): they run on every other prompt, which keeps short and long ones.
bool skip_prompt(const KernelSet& k, const std::string& golden_name, size_t index) {
  return std::string_view(k.name) == "reference" && golden_name.starts_with("tiny") && index % 2 == 1;
}

// The checks of one case with one kernel set (support/golden_check.h).
Measured check_golden(const Case& c, const KernelSet& kernels, DType kv_type, const Tolerance& tol, bool rounded,
                      bool packed = false, bool greedy = true, const std::string& repack = "") {
  GoldenCheck g;
  g.golden = &test::golden_file(fixture("goldens/" + c.golden + ".json.xz"));
  g.model_path = c.path();
  g.kernels = &kernels;
  g.kv_type = kv_type;
  g.tol = tol;
  g.rounded = rounded;
  g.packed = packed;
  g.greedy = greedy;
  g.repack = repack;
  g.skip_prompt = [&](size_t i) { return skip_prompt(kernels, c.golden, i); };
  return test::check_golden(g);
}

class GoldenTest : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(GoldenTest, TeacherForcedTop20AndGreedy) {
  const auto& [c, set_name] = GetParam();
  KernelSetInfo info{};
  const KernelSet* set = test::find_kernel_set(set_name, &info);
  ASSERT_NE(set, nullptr);
  if (!info.supported) GTEST_SKIP() << "this CPU lacks " << info.needs << " for the " << set_name << " kernels";
  const auto model = Model::load(c.path());
  const bool rounded = rounds_activations(*model, *set);
  const Tolerance& tol = rounded ? c.rounded : c.exact;
  // Weights as stored (the default), then, where these kernels have a packed layout for them, packed.
  for (bool packed : {false, true}) {
    if (packed && !packs_any(*model, *set)) continue;
    const Measured m = check_golden(c, *set, DType::F32, tol, rounded, packed);
    // Measured agreement, for the README's table.
    std::printf("[golden] %-18s %-12s %-7s %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d%s\n",
                c.label.c_str(), set_name.c_str(), rounded ? "rounded" : "exact", m.positions, m.max, m.p99,
                m.top1_checked, packed ? "  (packed)" : "");
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenTest, ::testing::Combine(::testing::ValuesIn(cases()),
                                                                  ::testing::ValuesIn(test::kernel_set_names())),
                         [](const auto& p) { return test::test_name(std::get<0>(p.param).label + "_" + std::get<1>(p.param)); });

// The AMX kernels on the scalar model of the tile unit, for the integer-weight variants (what
// they multiply differently from the other sets): teacher-forced only, since an Engine selects
// its kernels by the names select_kernels knows.
class GoldenEmulatedAmxTest : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(GoldenEmulatedAmxTest, TeacherForcedTop20) {
  const auto& [c, set_name] = GetParam();
  const KernelSet* set = amx_emulated_kernels(set_name);
  if (set == nullptr) GTEST_SKIP() << "the emulated AMX kernels need AVX-512 VNNI and BF16";
  const Measured m = check_golden(c, *set, DType::F32, c.rounded, true, false, false);
  std::printf("[golden] %-18s %-17s rounded %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d\n",
              c.label.c_str(), set_name.c_str(), m.positions, m.max, m.p99, m.top1_checked);
}

std::vector<Case> integer_cases() {
  std::vector<Case> out;
  for (const Case& c : cases())
    if (c.label.starts_with("micro_gguf_q")) out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenEmulatedAmxTest,
                         ::testing::Combine(::testing::ValuesIn(integer_cases()),
                                            ::testing::Values("amx-int8-emulated", "amx-bf16-emulated")),
                         [](const auto& p) { return test::test_name(std::get<0>(p.param).label + "_" + std::get<1>(p.param)); });

// A KV cache of F16 or BF16 values rounds the keys and values once, when written; everything
// else is exact (the "exact" kernel set). Bound: the README's BF16-activation row, since that
// path rounds these same activations and more. micro-qwen3's row stands in for tiny-qwen3,
// which has none (as above).
class GoldenKvCacheTest : public ::testing::TestWithParam<std::tuple<Case, DType>> {};

TEST_P(GoldenKvCacheTest, HalfPrecisionCache) {
  const auto& [c, kv] = GetParam();
  const Measured m = check_golden(c, select_kernels("exact"), kv, kMicroBf16Act, true);
  std::printf("[golden-kv] %-18s %-5s %-11s %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d\n",
              c.label.c_str(), std::string(name(kv)).c_str(), "exact", m.positions, m.max, m.p99, m.top1_checked);
}

// A set whose attention rounds on a BF16 cache (queries and probabilities to bf16, with the
// cache's keys and values): held to the row of its matrices' rounding, and for weights it
// multiplies exactly to the BF16-activation row (it rounds the same kind of activations).
TEST_P(GoldenKvCacheTest, RoundedAttentionOnBf16Cache) {
  const auto& [c, kv] = GetParam();
  if (kv != DType::BF16) GTEST_SKIP() << "attention rounds on BF16 caches only";
  const auto model = Model::load(c.path());
  int checked = 0;
  for (const auto& k : kernel_sets()) {
    if (!k.supported || !k.set->attend_rounds) continue;
    const bool rounded = rounds_activations(*model, *k.set);
    const Measured m = check_golden(c, *k.set, kv, rounded ? c.rounded : kMicroBf16Act, true);
    std::printf("[golden-kv] %-18s %-5s %-11s %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d\n",
                c.label.c_str(), std::string(name(kv)).c_str(), k.set->name, m.positions, m.max, m.p99, m.top1_checked);
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no set on this CPU rounds attention";
}

// What a user gets with no flag: the `auto` kernels, the weights packed where that is their
// default, on the cache type `--kv-cache auto` gives them (F16 where they round activations).
// Held to the kernels' row where they round these weights' activations, and where they multiply
// them exactly, to the half-precision cache's bound above.
class GoldenDefaultTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenDefaultTest, DefaultKernelsOnTheirDefaultCache) {
  const Case& c = GetParam();
  const KernelSet& k = select_kernels("auto");
  const DType kv = k.exact ? DType::F32 : DType::F16;
  const auto model = Model::load(c.path());
  const bool rounded = rounds_activations(*model, k);
  const Tolerance& tol = rounded ? c.rounded : kv == DType::F32 ? c.exact : kMicroBf16Act;
  const Measured m = check_golden(c, k, kv, tol, rounded, true, true, "auto");
  std::printf("[golden-default] %-18s %-9s %-5s %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d\n",
              c.label.c_str(), k.name, std::string(name(kv)).c_str(), m.positions, m.max, m.p99, m.top1_checked);
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenDefaultTest, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return test::test_name(p.param.label); });

std::vector<Case> kv_cases() {
  std::vector<Case> out;
  for (const Case& c : cases())
    if (c.label == "tiny_hf_bf16" || c.label == "micro_hf_bf16" || c.label == "micro_gguf_q8_0" ||
        c.label == "micro_gguf_q4_k_m")
      out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenKvCacheTest,
                         ::testing::Combine(::testing::ValuesIn(kv_cases()),
                                            ::testing::Values(DType::F16, DType::BF16)),
                         [](const auto& p) {
                           return std::get<0>(p.param).label + "_" + std::string(name(std::get<1>(p.param)));
                         });

}  // namespace
}  // namespace fare
