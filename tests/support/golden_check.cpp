#include "support/golden_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "common/thread_pool.h"
#include "engine/engine.h"
#include "model/session.h"
#include "support/xz.h"

namespace fare::test {

using json = nlohmann::json;

namespace {

// Whether pred(the kernels of its type) holds for any weight matrix of the model.
template <class Pred>
bool any_matrix(const Model& m, const KernelSet& k, Pred pred) {
  bool any = pred(k.of(m.output.type));
  for (const auto& l : m.layers) {
    for (const WeightMatrix* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down, &l.router})
      any = any || (w->rows > 0 && pred(k.of(w->type)));
    for (const ExpertWeights& e : l.experts)
      for (const WeightMatrix* w : {&e.gate, &e.up, &e.down}) any = any || pred(k.of(w->type));
  }
  return any;
}

}  // namespace

bool rounds_activations(const Model& m, const KernelSet& k) {
  return any_matrix(m, k, [](const TypeKernels& t) { return t.act != ActFormat::F32 || t.gemv_act != ActFormat::F32; });
}

bool packs_any(const Model& m, const KernelSet& k) {
  return any_matrix(m, k, [](const TypeKernels& t) { return t.packing != nullptr; });
}

const json& golden_file(const std::string& path) {
  static std::map<std::string, json> cache;
  auto it = cache.find(path);
  if (it == cache.end()) it = cache.emplace(path, json::parse(read_xz_file(path))).first;
  return it->second;
}

Measured check_golden(const GoldenCheck& c) {
  const json& g = *c.golden;
  const Tolerance& tol = c.tol;
  ThreadPool pool(2);
  const Compute cx{&pool, c.kernels};
  auto model = c.packed ? Model::load(c.model_path, &cx) : Model::load(c.model_path);
  EngineOptions eo;
  eo.n_threads = 2;
  eo.kernels = c.kernels->name;
  eo.kv_cache = c.kv_type == DType::F32 ? "f32" : c.kv_type == DType::F16 ? "f16" : "bf16";
  eo.repack = !c.repack.empty() ? c.repack : c.packed ? "all" : "off";
  auto engine = c.greedy ? Engine::open(c.model_path, eo) : nullptr;

  std::vector<double> deltas;  // per position: the largest |Δ| over the 20 reference ids
  Measured out;
  size_t prompt_index = 0;
  for (const auto& p : g["prompts"]) {
    if (c.skip_prompt && c.skip_prompt(prompt_index++)) continue;
    const auto tokens = p["tokens"].get<std::vector<int32_t>>();
    const auto& ref_ids = p["ref_top_ids"];
    const auto& ref_rel = p["ref_top_rel"];
    Session s(model, static_cast<int>(tokens.size()), cx, 256, c.kv_type);
    s.forward(tokens, true, [&](int64_t k, const float* e) {
      const auto ids = ref_ids[k].get<std::vector<int32_t>>();
      const auto rel = ref_rel[k].get<std::vector<double>>();
      double worst = 0;
      for (size_t i = 0; i < ids.size(); ++i)
        worst = std::max(worst, std::fabs((static_cast<double>(e[ids[i]]) - e[ids[0]]) - rel[i]));
      deltas.push_back(worst);
      EXPECT_LE(worst, tol.all) << p["name"] << " position " << k;
      if (-rel[1] >= tol.top1_gap) {
        ++out.top1_checked;
        const int32_t top = static_cast<int32_t>(std::max_element(e, e + model->config.n_vocab) - e);
        EXPECT_EQ(top, ids[0]) << p["name"] << " position " << k << " (reference gap " << -rel[1] << ")";
      }
    });

    // Greedy: equal before the first near-tie of the reference (with rounded activations: before
    // the first step whose reference gap is below the top-1 threshold); free after it.
    if (!c.greedy) continue;
    GenerateRequest req;
    req.prompt = p["ids"].get<std::vector<int32_t>>();
    req.max_tokens = static_cast<int>(p["ref_greedy"].size());
    req.stop_at_eos = false;
    const auto got = engine->generate(req).tokens;
    const auto want = p["ref_greedy"].get<std::vector<int32_t>>();
    const auto gaps = p["ref_greedy_gap"].get<std::vector<double>>();
    const auto ties = p["ref_near_ties"].get<std::vector<int>>();
    size_t must_match = ties.empty() ? want.size() : static_cast<size_t>(*std::min_element(ties.begin(), ties.end()));
    if (c.rounded)
      for (size_t j = 0; j < gaps.size(); ++j)
        if (gaps[j] < tol.top1_gap) {
          must_match = std::min(must_match, j);
          break;
        }
    EXPECT_EQ(got.size(), want.size());
    for (size_t j = 0; j < must_match && j < got.size(); ++j)
      EXPECT_EQ(got[j], want[j]) << p["name"] << " greedy step " << j;
  }
  std::sort(deltas.begin(), deltas.end());
  out.positions = deltas.size();
  out.max = deltas.back();
  out.p99 = deltas[static_cast<size_t>(0.99 * static_cast<double>(deltas.size() - 1))];
  EXPECT_LE(out.p99, tol.p99);
  return out;
}

}  // namespace fare::test
