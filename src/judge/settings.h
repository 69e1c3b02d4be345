// How a task is judged: template, generation settings, thinking mode, samples, swapping.
// Defaults (docs/JUDGE.md explains the choice): thinking off; greedy decoding for a single sample;
// Qwen3's recommended sampling (temperature 0.6, top-p 0.95, top-k 20) with --think or --samples > 1.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "judge/backend.h"
#include "judge/task.h"
#include "judge/template.h"

namespace fare::judge {

inline constexpr double kSampledTemperature = 0.6;
inline constexpr double kSampledTopP = 0.95;
inline constexpr int kSampledTopK = 20;
inline constexpr int kDefaultTopLogprobs = 20;

struct JudgeConfig {
  Task task = Task::kPairwise;
  TaskTemplate tpl;
  GenerationSettings generation;
  bool think = false;     // Qwen3 enable_thinking
  // gpt-oss (harmony) models: "low", "medium" or "high"; empty: the chat template's default
  // (medium). Refused for a model of another family (check_model_family).
  std::string reasoning_effort;
  int samples = 1;        // self-consistency: majority vote over this many samples per prompt
  bool swap = true;       // pairwise: also judge with A and B swapped
  int top_logprobs = kDefaultTopLogprobs;  // 0: do not ask for verdict confidence
};

// What a user may set; unset fields take the task's defaults.
struct ConfigOverrides {
  std::optional<bool> think;
  std::string reasoning_effort;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<int> max_tokens;
  uint64_t seed = 0;
  int samples = 1;
  bool swap = true;
  int top_logprobs = kDefaultTopLogprobs;
};

bool default_think(Task task);
int default_max_tokens(Task task, bool think);
GenerationSettings default_generation(Task task, bool think, int samples);

// Defaults, then overrides; throws fare::Error for settings that cannot work (samples > 1 with
// greedy decoding, top_p outside (0, 1], ...).
JudgeConfig make_config(Task task, const TaskTemplate& tpl, const ConfigOverrides& overrides);

// Throws fare::Error when the config asks for something the model's chat template family (a
// JudgeBackend::chat_family(); empty: unknown, nothing is checked) cannot do: a reasoning effort
// for a model that is not gpt-oss (harmony), whose template would ignore it.
void check_model_family(const JudgeConfig& config, const std::string& chat_family);

nlohmann::ordered_json generation_to_json(const GenerationSettings& g);
nlohmann::ordered_json config_to_json(const JudgeConfig& c);

}  // namespace fare::judge
