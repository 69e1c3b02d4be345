#include "server/api_error.h"

#include "common/error.h"

namespace fare::server {

ApiError bad_request(const std::string& message, const std::string& param) {
  return ApiError(400, "invalid_request_error", message, param);
}

ApiError context_exceeded(int64_t n_prompt, int64_t n_ctx) {
  ApiError e(400, "exceed_context_size_error",
             cat("the request exceeds the available context size: the prompt has ", n_prompt,
                 " tokens and the context holds ", n_ctx, " (the answer needs at least one more)"));
  e.extra["n_prompt_tokens"] = n_prompt;
  e.extra["n_ctx"] = n_ctx;
  return e;
}

nlohmann::ordered_json error_body(const ApiError& e) {
  nlohmann::ordered_json err = {{"message", e.what()}, {"type", e.type()},
                                {"param", e.param().empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(e.param())},
                                {"code", e.status()}};
  for (const auto& [k, v] : e.extra.items()) err[k] = v;
  return {{"error", err}};
}

}  // namespace fare::server
