// The OpenAI chat-completions wire format, as the judge speaks it to a remote server (vLLM,
// SGLang, llama.cpp's llama-server, fare's own server): a JudgeRequest in, the request JSON out;
// the response JSON in, a JudgeCompletion out. Pure functions with no transport, so that every
// server's recorded answer can be tested byte for byte (tests/judge/recorded/).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "judge/backend.h"

namespace fare::judge::openai {

// The most alternatives per token that OpenAI's API accepts for top_logprobs; vLLM refuses more
// unless started with a larger --max-logprobs (its default is the same 20). A request for more is
// clamped to this, so a task that wants 50 alternatives gets 20 from a remote server.
inline constexpr int kMaxTopLogprobs = 20;

// The body of POST /v1/chat/completions: model, messages, max_tokens, temperature, top_p, seed,
// stream false; top_k only when set (> 0: servers disagree on how to spell "off"); logprobs with
// top_logprobs (clamped to kMaxTopLogprobs) when req.top_logprobs > 0; and
// chat_template_kwargs.enable_thinking when req.think is set; reasoning_effort (OpenAI's field,
// which vLLM gives gpt-oss's template) when req.reasoning_effort is set.
nlohmann::json chat_request(const JudgeRequest& req, const std::string& model);

// What one chat completion response holds, as the judge needs it.
struct ChatResponse {
  JudgeCompletion completion;  // seconds is left 0: the caller measures the request
  std::string content;         // message.content as the server sent it (null: empty)
  std::string reasoning;       // message.reasoning or message.reasoning_content; empty: none
  bool has_reasoning = false;
  // The server sent log-probabilities whose tokens could not be lined up with the text, so
  // completion.steps was left empty (confidence cannot locate the verdict in them).
  bool steps_dropped = false;
};

// Reads a chat completion (choices[0]). The completion text is what a local run of the model
// would have produced:
//   - without reasoning: message.content;
//   - with reasoning (vLLM's `reasoning`, or `reasoning_content` as older vLLM, SGLang and
//     llama.cpp name it): "<think>" + reasoning + "</think>" + content, no whitespace added (a
//     "</think>" inside the reasoning written as escape_reasoning() writes it). The
//     qwen3 parsers of vLLM and of fare's server split the output there without trimming, so this
//     undoes their split exactly;
//   - when log-probabilities came back, their tokens (from `bytes` where given: llama.cpp cuts a
//     token's `token` text at an incomplete UTF-8 character) are the generation itself. Where
//     their concatenation differs from the rebuilt text only in whitespace or a leading <think>
//     (SGLang and llama.cpp trim the parts they split, and a chat template may open the think
//     block in the prompt), the tokens' text is taken as the completion text, so that
//     option_probabilities() finds the verdict in the steps exactly as in a local run. When they
//     differ otherwise, the steps are dropped (steps_dropped) and the rebuilt text is kept.
// finish_reason "stop" becomes "eos" (the judge sends no stop strings, so the model ended its
// turn) and "length" stays "length"; anything else is an error. usage gives the token counts
// (0 when the server sends none). Throws fare::Error naming the field, what was expected and what
// came, e.g. "choices[0].message.content: expected a string or null, got number 3".
ChatResponse parse_chat_response(const nlohmann::json& body);

// The ids of GET /v1/models ({"object": "list", "data": [{"id": ...}, ...]}), in order; throws
// fare::Error naming the field when the body is not such a list or the list is empty.
std::vector<std::string> parse_model_ids(const nlohmann::json& body);

// What an error response says, for messages: error.message (OpenAI, llama.cpp, newer vLLM),
// message (SGLang, older vLLM), error when it is a string, or else the start of the body with
// control characters escaped. At most `max_chars` characters.
std::string error_message(std::string_view body, size_t max_chars = 300);

}  // namespace fare::judge::openai
