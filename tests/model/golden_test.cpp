// Every model variant against the float64 NumPy reference goldens of the fixtures: top-20
// log-prob ratios at every teacher-forced position, top-1 agreement where the reference is not
// near a tie, and greedy continuations up to the first near-tie.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/thread_pool.h"
#include "engine/engine.h"
#include "model/model.h"
#include "model/session.h"
#include "support/derived_models.h"
#include "support/xz.h"

namespace fare {
namespace {

using json = nlohmann::json;
using test::fixture;

// Tolerances for an engine that does F32 math on the decoded weights, as the fixture README's
// "Recommended tolerances" table gives them (3x llama.cpp's F32 spread on the same weights).
struct Tolerance {
  double all;       // |Δ| bound at every position
  double p99;       // |Δ| bound at 99% of positions
  double top1_gap;  // top-1 must agree where the reference top-2 gap is at least this
};

struct Case {
  std::string golden;                 // golden variant name
  std::function<std::string()> path;  // model to load
  std::string label;
  Tolerance tol;
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.label; }

constexpr Tolerance kTinyF32{1e-4, 5e-5, 1e-3};
constexpr Tolerance kMicroF32{5e-4, 5e-4, 5e-3};
constexpr Tolerance kMicroKQuant{1e-3, 5e-4, 0.01};  // Q4_K, Q6_K, Q4_K_M rows of the table

std::function<std::string()> fx(const std::string& rel) {
  return [rel] { return fixture(rel); };
}

std::vector<Case> cases() {
  return {
      {"tiny-qwen3-bf16", fx("tiny-qwen3/hf-bf16"), "tiny_hf_bf16", kTinyF32},
      {"tiny-qwen3-q8_0", fx("tiny-qwen3/tiny-qwen3-q8_0.gguf"), "tiny_gguf_q8_0", kTinyF32},
      {"micro-qwen3-f32", fx("micro-qwen3/hf-bf16"), "micro_hf_bf16", kMicroF32},
      {"micro-qwen3-f32", test::micro_hf_f32, "micro_hf_f32", kMicroF32},
      {"micro-qwen3-f32", test::micro_hf_sharded, "micro_hf_sharded", kMicroF32},
      {"micro-qwen3-f32", fx("micro-qwen3/micro-qwen3-f16.gguf"), "micro_gguf_f16", kMicroF32},
      {"micro-qwen3-f32", test::micro_gguf_f32, "micro_gguf_f32", kMicroF32},
      {"micro-qwen3-bf16", fx("micro-qwen3/micro-qwen3-bf16.gguf"), "micro_gguf_bf16", kMicroF32},
      {"micro-qwen3-q8_0", fx("micro-qwen3/micro-qwen3-q8_0.gguf"), "micro_gguf_q8_0", kMicroF32},
      {"micro-qwen3-q4_0", fx("micro-qwen3/micro-qwen3-q4_0.gguf"), "micro_gguf_q4_0", kMicroF32},
      {"micro-qwen3-q4_k", fx("micro-qwen3/micro-qwen3-q4_k.gguf"), "micro_gguf_q4_k", kMicroKQuant},
      {"micro-qwen3-q5_k", fx("micro-qwen3/micro-qwen3-q5_k.gguf"), "micro_gguf_q5_k", kMicroF32},
      {"micro-qwen3-q6_k", fx("micro-qwen3/micro-qwen3-q6_k.gguf"), "micro_gguf_q6_k", kMicroKQuant},
      {"micro-qwen3-q4_k_m", fx("micro-qwen3/micro-qwen3-q4_k_m.gguf"), "micro_gguf_q4_k_m", kMicroKQuant},
      {"micro-qwen3-fp8", fx("micro-qwen3/hf-fp8"), "micro_hf_fp8", kMicroF32},
  };
}

const json& golden(const std::string& variant) {
  static std::map<std::string, json> cache;
  auto it = cache.find(variant);
  if (it == cache.end())
    it = cache.emplace(variant, json::parse(test::read_xz_file(fixture("goldens/" + variant + ".json.xz")))).first;
  return it->second;
}

class GoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(GoldenTest, TeacherForcedTop20AndGreedy) {
  const Case& c = GetParam();
  const json& g = golden(c.golden);
  const std::string path = c.path();
  auto model = Model::load(path);
  ThreadPool pool(2);
  auto engine = Engine::open(path, {.n_threads = 2});

  std::vector<double> deltas;  // per position: the largest |Δ| over the 20 reference ids
  int top1_checked = 0;
  for (const auto& p : g["prompts"]) {
    const auto tokens = p["tokens"].get<std::vector<int32_t>>();
    const auto& ref_ids = p["ref_top_ids"];
    const auto& ref_rel = p["ref_top_rel"];
    Session s(model, static_cast<int>(tokens.size()), pool);
    s.forward(tokens, true, [&](int64_t k, const float* e) {
      const auto ids = ref_ids[k].get<std::vector<int32_t>>();
      const auto rel = ref_rel[k].get<std::vector<double>>();
      double worst = 0;
      for (size_t i = 0; i < ids.size(); ++i)
        worst = std::max(worst, std::fabs((static_cast<double>(e[ids[i]]) - e[ids[0]]) - rel[i]));
      deltas.push_back(worst);
      ASSERT_LE(worst, c.tol.all) << p["name"] << " position " << k;
      if (-rel[1] >= c.tol.top1_gap) {
        ++top1_checked;
        const int32_t top = static_cast<int32_t>(std::max_element(e, e + model->config.n_vocab) - e);
        ASSERT_EQ(top, ids[0]) << p["name"] << " position " << k << " (reference gap " << -rel[1] << ")";
      }
    });

    // Greedy: equal before the first near-tie of the reference; free after it.
    GenerateRequest req;
    req.prompt = p["ids"].get<std::vector<int32_t>>();
    req.max_tokens = static_cast<int>(p["ref_greedy"].size());
    req.stop_at_eos = false;
    const auto got = engine->generate(req).tokens;
    const auto want = p["ref_greedy"].get<std::vector<int32_t>>();
    const auto ties = p["ref_near_ties"].get<std::vector<int>>();
    const size_t must_match = ties.empty() ? want.size() : static_cast<size_t>(*std::min_element(ties.begin(), ties.end()));
    ASSERT_EQ(got.size(), want.size());
    for (size_t j = 0; j < must_match; ++j) ASSERT_EQ(got[j], want[j]) << p["name"] << " greedy step " << j;
  }
  std::sort(deltas.begin(), deltas.end());
  const double p99 = deltas[static_cast<size_t>(0.99 * static_cast<double>(deltas.size() - 1))];
  EXPECT_LE(p99, c.tol.p99);
  // Measured agreement, for the README's table.
  std::printf("[golden] %-18s %5zu positions  max|d| %.2e  p99 %.2e  top-1 checked %d\n", c.label.c_str(),
              deltas.size(), deltas.back(), p99, top1_checked);
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenTest, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.label; });

}  // namespace
}  // namespace fare
