// Picking a backend from what the user typed after -m.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "judge/backend.h"
#include "judge/remote_backend.h"

namespace fare::judge {

inline constexpr std::string_view kScriptedPrefix = "scripted:";

// "scripted:rules.jsonl" replays prepared outputs (ScriptedBackend::from_file), for trying the
// pipeline without weights; "http://HOST:PORT/v1" or "https://..." (a comma list for several)
// sends every request to OpenAI-compatible servers with `remote` (the engine options are then
// unused); anything else is a model folder or .gguf run by the local engine with `opts`.
std::unique_ptr<JudgeBackend> open_backend(const std::string& spec, const EngineOptions& opts,
                                           const RemoteOptions& remote = {});

}  // namespace fare::judge
