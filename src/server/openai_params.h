// The request fields the chat and legacy completion endpoints share (OpenAI's names, plus the
// extra sampling fields vLLM and llama.cpp accept: top_k, min_p, repetition_penalty, ignore_eos).
#pragma once

#include <random>
#include <string>

#include "server/routes.h"

namespace fare::server {

struct CommonParams {
  GenerateRequest gen;  // prompt left empty
  int max_tokens = -1;  // -1: as many as the context holds
  int n = 1;
  bool seeded = false;  // seed given: choice i uses seed + i, so a request repeats
  bool stream = false;
  bool include_usage = false;
};

CommonParams parse_common(const json& body, int default_max_tokens);
// The choice's request: seed per choice, max_tokens resolved.
GenerateRequest choice_request(const CommonParams& p, const std::vector<int32_t>& prompt, int choice);

std::string new_id(const char* prefix);  // "chatcmpl-" + 24 random hex digits
int64_t unix_now();
std::string finish_reason_name(const std::string& engine_reason);  // eos -> stop

// SSE framing.
std::string sse(const json& event);
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace fare::server
