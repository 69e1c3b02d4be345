#include "judge/open_backend.h"

#include "common/error.h"
#include "judge/local_backend.h"
#include "judge/scripted_backend.h"

namespace fare::judge {

std::unique_ptr<JudgeBackend> open_backend(const std::string& spec, const EngineOptions& opts,
                                           const RemoteOptions& remote) {
  if (spec.starts_with(kScriptedPrefix)) return ScriptedBackend::from_file(spec.substr(kScriptedPrefix.size()));
  if (is_remote_spec(spec)) {
#ifdef FARE_HAVE_HTTP
    return RemoteBackend::open(spec, remote);
#else
    fail("'", spec, "': this build of fare has no HTTP client (a FARE_STATIC build leaves cpp-httplib out); "
         "use a build from the release preset to judge with a remote server");
#endif
  }
  if (spec.find(',') != std::string::npos && (spec.find("http://") != std::string::npos || spec.find("https://") != std::string::npos))
    fail("'", spec, "': a list of models must be all server URLs (http://... or https://...)");
  return LocalBackend::open(spec, opts);
}

}  // namespace fare::judge
