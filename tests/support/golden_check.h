// Test support: a model held to a golden file of the fixtures' schema (fare-fixtures/golden/1):
// top-20 log-prob ratios at every teacher-forced position, top-1 agreement where the reference
// is not near a tie, and greedy continuations up to the first near-tie.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/dtype.h"
#include "model/model.h"
#include "ops/kernels.h"

namespace fare::test {

// A row of a golden's tolerance table.
struct Tolerance {
  double all;       // |Δ| bound at every position
  double p99;       // |Δ| bound at 99% of positions
  double top1_gap;  // top-1 must agree where the reference top-2 gap is at least this
};

struct Measured {
  size_t positions = 0;
  double max = 0, p99 = 0;
  int top1_checked = 0;
};

struct GoldenCheck {
  const nlohmann::json* golden = nullptr;
  std::string model_path;
  const KernelSet* kernels = nullptr;
  DType kv_type = DType::F32;
  Tolerance tol{};
  // The greedy rule for rounded activations (see the fixtures' README): greedy must agree only
  // before the first step whose reference gap is below tol.top1_gap.
  bool rounded = false;
  // The weights in the layout these kernels read fastest (as `--repack` loads them); otherwise
  // as stored, the engine's default.
  bool packed = false;
  bool greedy = true;  // also generate through an Engine (which takes only sets select_kernels knows)
  std::string repack;  // the engine's option, when not the one `packed` implies ("all" or "off")
  std::function<bool(size_t prompt_index)> skip_prompt;  // prompts left out (slow kernels)
};

// Runs the checks (gtest EXPECTs) and returns what was measured.
Measured check_golden(const GoldenCheck& c);

// A golden file, parsed once per path.
const nlohmann::json& golden_file(const std::string& path);

// Whether `k` multiplies any weight matrix of the model with rounded activations, and whether it
// has a packed layout for any of them.
bool rounds_activations(const Model& m, const KernelSet& k);
bool packs_any(const Model& m, const KernelSet& k);

}  // namespace fare::test
