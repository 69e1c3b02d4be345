#include "server/openai_params.h"

#include <chrono>
#include <cstdio>

#include "common/error.h"

namespace fare::server {

namespace {

std::vector<std::string> parse_stop(const json& body) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return {};
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array()) throw bad_request("'stop' must be a string or an array of strings", "stop");
  std::vector<std::string> out;
  for (const auto& s : *it) {
    if (!s.is_string()) throw bad_request("'stop' must be a string or an array of strings", "stop");
    if (!s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

uint64_t random_seed() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

CommonParams parse_common(const json& body, int default_max_tokens) {
  CommonParams p;
  SamplingParams& s = p.gen.sampling;
  s.temperature = static_cast<float>(opt_number(body, "temperature", 0, 2).value_or(1.0));
  s.top_p = static_cast<float>(opt_number(body, "top_p", 0, 1).value_or(1.0));
  if (s.top_p <= 0) throw bad_request("'top_p' is 0, expected a value in (0, 1]", "top_p");
  const int64_t top_k = opt_int(body, "top_k", -1, 1 << 30).value_or(0);
  s.top_k = top_k < 0 ? 0 : static_cast<int>(top_k);  // vLLM's -1 and 0 both mean off
  s.min_p = static_cast<float>(opt_number(body, "min_p", 0, 1).value_or(0));
  s.presence_penalty = static_cast<float>(opt_number(body, "presence_penalty", -2, 2).value_or(0));
  s.repetition_penalty = static_cast<float>(opt_number(body, "repetition_penalty", 0.01, 100).value_or(1));
  if (opt_number(body, "frequency_penalty", -2, 2).value_or(0) != 0)
    throw ApiError(400, "not_supported_error", "'frequency_penalty' is not supported; use presence_penalty or repetition_penalty",
                   "frequency_penalty");
  if (auto seed = opt_int(body, "seed", INT64_MIN, INT64_MAX)) {
    s.seed = static_cast<uint64_t>(*seed);
    p.seeded = true;
  }
  auto max_tokens = opt_int(body, "max_completion_tokens", 0, 1 << 30);
  if (!max_tokens) max_tokens = opt_int(body, "max_tokens", 0, 1 << 30);
  p.max_tokens = max_tokens ? static_cast<int>(*max_tokens) : default_max_tokens;
  p.n = static_cast<int>(opt_int(body, "n", 1, 16).value_or(1));
  p.gen.stop = parse_stop(body);
  p.gen.stop_at_eos = !opt_bool(body, "ignore_eos").value_or(false);
  p.stream = opt_bool(body, "stream").value_or(false);
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) throw bad_request("'stream_options' must be an object", "stream_options");
    p.include_usage = opt_bool(*it, "include_usage").value_or(false);
  }
  return p;
}

GenerateRequest choice_request(const CommonParams& p, const std::vector<int32_t>& prompt, int choice) {
  GenerateRequest g = p.gen;
  g.prompt = prompt;
  g.max_tokens = p.max_tokens < 0 ? 1 << 30 : p.max_tokens;  // submit() caps it at the context
  g.sampling.seed = p.seeded ? p.gen.sampling.seed + static_cast<uint64_t>(choice) : random_seed();
  return g;
}

std::string new_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng() & 0xffffffffu));
  return std::string(prefix) + buf;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string finish_reason_name(const std::string& r) {
  if (r == "eos" || r == "stop") return "stop";
  return r;  // length, cancelled
}

std::string sse(const json& event) {
  return "data: " + event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

}  // namespace fare::server
