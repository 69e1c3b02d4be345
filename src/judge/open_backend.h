// Picking a backend from what the user typed after -m.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "judge/backend.h"

namespace fare::judge {

inline constexpr std::string_view kScriptedPrefix = "scripted:";

// "scripted:rules.jsonl" replays prepared outputs (ScriptedBackend::from_file), for trying the
// pipeline without weights; anything else is a model folder or .gguf run by the local engine
// with `opts`.
std::unique_ptr<JudgeBackend> open_backend(const std::string& spec, const EngineOptions& opts);

}  // namespace fare::judge
