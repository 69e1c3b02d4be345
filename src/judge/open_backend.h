// Picking a backend from what the user typed after -m.
#pragma once

#include <memory>
#include <string>

#include "judge/backend.h"

namespace fare::judge {

struct BackendOptions {
  int n_threads = 0;  // local engine: 0 = all CPUs
  int n_ctx = 0;      // local engine: 0 = its default
  std::string kernels = "auto";     // local engine: CPU kernel set (EngineOptions::kernels)
  std::string kv_cache = "f32";     // local engine: KV cache values
  std::string chat_template_file;   // local engine: template instead of the model's own
};

inline constexpr std::string_view kScriptedPrefix = "scripted:";

// "scripted:rules.jsonl" replays prepared outputs (ScriptedBackend::from_file), for trying the
// pipeline without weights; anything else is a model folder or .gguf run by the local engine.
std::unique_ptr<JudgeBackend> open_backend(const std::string& spec, const BackendOptions& opts);

}  // namespace fare::judge
