#include "judge/open_backend.h"

#include "judge/local_backend.h"
#include "judge/scripted_backend.h"

namespace fare::judge {

std::unique_ptr<JudgeBackend> open_backend(const std::string& spec, const EngineOptions& opts) {
  if (spec.starts_with(kScriptedPrefix)) return ScriptedBackend::from_file(spec.substr(kScriptedPrefix.size()));
  return LocalBackend::open(spec, opts);
}

}  // namespace fare::judge
