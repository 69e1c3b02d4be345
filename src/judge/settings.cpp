#include "judge/settings.h"

#include "common/error.h"

namespace fare::judge {

bool default_think(Task) { return false; }

int default_max_tokens(Task task, bool think) {
  // Step judgments explain every step, pairwise ones two whole answers; reference-based checks and
  // ratings need less. Thinking roughly quadruples the output.
  int base = 0;
  switch (task) {
    case Task::kPairwise:
    case Task::kStep:
    case Task::kVerify: base = 4096; break;
    case Task::kVerifyRef:
    case Task::kRating: base = 2048; break;
  }
  return think ? base * 4 : base;
}

GenerationSettings default_generation(Task task, bool think, int samples) {
  GenerationSettings g;
  g.max_tokens = default_max_tokens(task, think);
  if (think || samples > 1) {
    g.temperature = kSampledTemperature;
    g.top_p = kSampledTopP;
    g.top_k = kSampledTopK;
  }
  return g;
}

JudgeConfig make_config(Task task, const TaskTemplate& tpl, const ConfigOverrides& o) {
  if (o.samples < 1) fail("--samples is ", o.samples, ", expected 1 or more");
  if (o.top_logprobs < 0) fail("top_logprobs is ", o.top_logprobs, ", expected 0 or more");
  JudgeConfig c;
  c.task = task;
  c.tpl = tpl;
  c.think = o.think.value_or(default_think(task));
  c.reasoning_effort = o.reasoning_effort;
  if (!c.reasoning_effort.empty() && c.reasoning_effort != "low" && c.reasoning_effort != "medium" &&
      c.reasoning_effort != "high")
    fail("reasoning effort is '", c.reasoning_effort, "', expected low, medium or high");
  c.samples = o.samples;
  c.swap = o.swap;
  c.top_logprobs = o.top_logprobs;
  c.generation = default_generation(task, c.think, c.samples);
  if (o.temperature) c.generation.temperature = *o.temperature;
  if (o.top_p) c.generation.top_p = *o.top_p;
  if (o.top_k) c.generation.top_k = *o.top_k;
  if (o.max_tokens) c.generation.max_tokens = *o.max_tokens;
  c.generation.seed = o.seed;
  const GenerationSettings& g = c.generation;
  if (g.temperature < 0) fail("--temperature is ", g.temperature, ", expected 0 or more");
  if (!(g.top_p > 0 && g.top_p <= 1)) fail("--top-p is ", g.top_p, ", expected a value in (0, 1]");
  if (g.top_k < 0) fail("--top-k is ", g.top_k, ", expected 0 (off) or more");
  if (g.max_tokens < 1) fail("--max-tokens is ", g.max_tokens, ", expected 1 or more");
  if (c.samples > 1 && g.temperature == 0)
    fail("--samples ", c.samples, " with temperature 0 would repeat one greedy answer; set --temperature > 0");
  validate_template(task, tpl);
  return c;
}

void check_model_family(const JudgeConfig& c, const std::string& chat_family) {
  if (!c.reasoning_effort.empty() && !chat_family.empty() && chat_family != "harmony")
    fail("a reasoning effort ('", c.reasoning_effort, "') is a setting of gpt-oss (harmony) models; this model's chat ",
         "template is ", chat_family, ", which has none");
}

nlohmann::ordered_json generation_to_json(const GenerationSettings& g) {
  return {{"temperature", g.temperature}, {"top_p", g.top_p}, {"top_k", g.top_k},
          {"max_tokens", g.max_tokens}, {"seed", g.seed}};
}

nlohmann::ordered_json config_to_json(const JudgeConfig& c) {
  return {{"task", task_name(c.task)},
          {"template_hash", c.tpl.hash()},
          {"template_origin", c.tpl.origin},
          {"generation", generation_to_json(c.generation)},
          {"think", c.think},
          {"reasoning_effort", c.reasoning_effort.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(c.reasoning_effort)},
          {"samples", c.samples},
          {"swap", c.task == Task::kPairwise && c.swap},
          {"top_logprobs", c.top_logprobs}};
}

}  // namespace fare::judge
