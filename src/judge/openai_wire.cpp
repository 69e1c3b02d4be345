#include "judge/openai_wire.h"

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "judge/json_fields.h"
#include "judge/verdict.h"

namespace fare::judge::openai {

using nlohmann::json;

namespace {

// Field access with the path of the field in messages: "choices[0].message.content is 3,
// expected a string or null".
[[noreturn]] void fail_at(const std::string& path, const json& v, std::string_view expected) {
  fail(path, " is ", describe_json(v), ", expected ", expected);
}

const json& member(const json& obj, std::string_view key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path, ": missing field '", key, "'");
  return *it;
}

const json* optional_member(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

void require_object_at(const json& v, const std::string& path) {
  if (!v.is_object()) fail_at(path, v, "an object");
}

// A string, or null / absent (empty), at obj[key].
std::string string_or_null(const json& obj, std::string_view key, const std::string& path, bool* present = nullptr) {
  const json* v = optional_member(obj, key);
  if (present) *present = v != nullptr;
  if (!v) return {};
  if (!v->is_string()) fail_at(cat(path, ".", key), *v, "a string or null");
  return v->get<std::string>();
}

double number_at(const json& obj, std::string_view key, const std::string& path) {
  const json& v = member(obj, key, path);
  if (!v.is_number()) fail_at(cat(path, ".", key), v, "a number");
  return v.get<double>();
}

int count_at(const json& obj, std::string_view key, const std::string& path) {
  const json* v = optional_member(obj, key);
  if (!v) return 0;
  if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > INT32_MAX)
    fail_at(cat(path, ".", key), *v, "a token count");
  return static_cast<int>(v->get<int64_t>());
}

// A token's text: its `bytes` when the server sends them (exact, even for part of a UTF-8
// character), else its `token`.
std::string token_text(const json& entry, const std::string& path) {
  require_object_at(entry, path);
  if (const json* bytes = optional_member(entry, "bytes")) {
    if (!bytes->is_array()) fail_at(path + ".bytes", *bytes, "an array of byte values or null");
    std::string out;
    for (size_t i = 0; i < bytes->size(); ++i) {
      const json& b = (*bytes)[i];
      if (!b.is_number_integer() || b.get<int64_t>() < 0 || b.get<int64_t>() > 255)
        fail_at(cat(path, ".bytes[", i, "]"), b, "a byte value 0-255");
      out.push_back(static_cast<char>(b.get<int>()));
    }
    return out;
  }
  const json& token = member(entry, "token", path);
  if (!token.is_string()) fail_at(path + ".token", token, "a string");
  return token.get<std::string>();
}

std::vector<TokenStep> parse_steps(const json& choice, const std::string& path) {
  const json* logprobs = optional_member(choice, "logprobs");
  if (!logprobs) return {};
  const std::string lp_path = path + ".logprobs";
  require_object_at(*logprobs, lp_path);
  const json* content = optional_member(*logprobs, "content");
  if (!content) return {};
  if (!content->is_array()) fail_at(lp_path + ".content", *content, "an array or null");
  std::vector<TokenStep> steps;
  steps.reserve(content->size());
  for (size_t i = 0; i < content->size(); ++i) {
    const std::string at = cat(lp_path, ".content[", i, "]");
    const json& entry = (*content)[i];
    TokenStep step;
    step.text = token_text(entry, at);
    step.logprob = number_at(entry, "logprob", at);
    if (const json* top = optional_member(entry, "top_logprobs")) {
      if (!top->is_array()) fail_at(at + ".top_logprobs", *top, "an array or null");
      for (size_t k = 0; k < top->size(); ++k) {
        const std::string alt_at = cat(at, ".top_logprobs[", k, "]");
        step.top.push_back({token_text((*top)[k], alt_at), number_at((*top)[k], "logprob", alt_at)});
      }
      // Most likely first, as the local engine gives them; servers already send them so.
      std::stable_sort(step.top.begin(), step.top.end(),
                       [](const TokenAlternative& a, const TokenAlternative& b) { return a.logprob > b.logprob; });
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

// The text with ASCII whitespace removed and a leading <think> dropped: what two renderings of one
// generation share when a server trimmed around its reasoning split.
std::string skeleton(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out.push_back(c);
  if (std::string_view(out).starts_with(kThinkOpen)) out.erase(0, kThinkOpen.size());
  return out;
}

std::string finish_reason(const json& choice, const std::string& path) {
  const json& v = member(choice, "finish_reason", path);
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "stop") return "eos";  // no stop strings are sent: the model ended its turn
    if (s == "length") return "length";
  }
  fail_at(path + ".finish_reason", v, "\"stop\" or \"length\"");
}

}  // namespace

json chat_request(const JudgeRequest& req, const std::string& model) {
  json messages = json::array();
  for (const Message& m : req.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  const GenerationSettings& g = req.generation;
  json body = {{"model", model},         {"messages", messages}, {"max_tokens", g.max_tokens},
               {"temperature", g.temperature}, {"top_p", g.top_p},     {"seed", g.seed},
               {"stream", false}};
  // top_k is not in OpenAI's API but vLLM, SGLang and llama.cpp read it; "off" is -1 for some
  // and 0 for others, so it is only sent when it is on.
  if (g.top_k > 0) body["top_k"] = g.top_k;
  if (req.top_logprobs > 0) {
    body["logprobs"] = true;
    body["top_logprobs"] = std::min(req.top_logprobs, kMaxTopLogprobs);
  }
  if (req.think) body["chat_template_kwargs"] = {{"enable_thinking", *req.think}};
  if (!req.reasoning_effort.empty()) body["reasoning_effort"] = req.reasoning_effort;
  return body;
}

ChatResponse parse_chat_response(const json& body) {
  require_object_at(body, "the response");
  const json& choices = member(body, "choices", "the response");
  if (!choices.is_array() || choices.empty()) fail_at("choices", choices, "a non-empty array");
  const json& choice = choices[0];
  require_object_at(choice, "choices[0]");
  const json& message = member(choice, "message", "choices[0]");
  require_object_at(message, "choices[0].message");

  ChatResponse out;
  out.content = string_or_null(message, "content", "choices[0].message");
  bool has_new = false, has_old = false;
  std::string reasoning = string_or_null(message, "reasoning", "choices[0].message", &has_new);
  std::string reasoning_content = string_or_null(message, "reasoning_content", "choices[0].message", &has_old);
  // Some vLLM versions send both names with the same text; two different texts cannot both be right.
  if (has_new && has_old && !reasoning.empty() && !reasoning_content.empty() && reasoning != reasoning_content)
    fail("choices[0].message has both 'reasoning' and 'reasoning_content' and they differ");
  out.reasoning = reasoning.empty() ? reasoning_content : reasoning;
  out.has_reasoning = !out.reasoning.empty();

  JudgeCompletion& c = out.completion;
  c.text = out.has_reasoning ? cat(kThinkOpen, escape_reasoning(out.reasoning), kThinkClose, out.content) : out.content;
  c.finish_reason = finish_reason(choice, "choices[0]");
  if (const json* usage = optional_member(body, "usage")) {
    require_object_at(*usage, "usage");
    c.prompt_tokens = count_at(*usage, "prompt_tokens", "usage");
    c.completion_tokens = count_at(*usage, "completion_tokens", "usage");
  }

  std::vector<TokenStep> steps = parse_steps(choice, "choices[0]");
  if (!steps.empty()) {
    std::string joined;
    for (const TokenStep& s : steps) joined += s.text;
    if (joined == c.text) {
      c.steps = std::move(steps);
    } else if (out.has_reasoning && out.content.empty() && joined == cat(kThinkOpen, out.reasoning) &&
               out.reasoning.find(kThinkClose) == std::string::npos) {
      c.text = std::move(joined);  // the think block never closed (the answer ran out of tokens)
      c.steps = std::move(steps);
    } else if (skeleton(joined) == skeleton(c.text)) {
      c.text = std::move(joined);  // the tokens as generated, whitespace the server trimmed included
      c.steps = std::move(steps);
    } else {
      out.steps_dropped = true;
    }
    if (c.completion_tokens == 0 && !c.steps.empty()) c.completion_tokens = static_cast<int>(c.steps.size());
  }
  return out;
}

std::vector<std::string> parse_model_ids(const json& body) {
  require_object_at(body, "the model list");
  const json& data = member(body, "data", "the model list");
  if (!data.is_array() || data.empty()) fail_at("data", data, "a non-empty array of models");
  std::vector<std::string> ids;
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string at = cat("data[", i, "]");
    require_object_at(data[i], at);
    const json& id = member(data[i], "id", at);
    if (!id.is_string() || id.get_ref<const std::string&>().empty()) fail_at(at + ".id", id, "a model name");
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

std::string error_message(std::string_view body, size_t max_chars) {
  std::string msg;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    const json* err = optional_member(j, "error");
    if (err && err->is_object() && err->contains("message") && (*err)["message"].is_string())
      msg = (*err)["message"].get<std::string>();
    else if (err && err->is_string())
      msg = err->get<std::string>();
    else if (j.contains("message") && j["message"].is_string())
      msg = j["message"].get<std::string>();
    else if (j.contains("detail") && j["detail"].is_string())
      msg = j["detail"].get<std::string>();
  }
  if (msg.empty()) msg = std::string(body);
  std::string out;
  for (char c : msg) {
    unsigned char u = static_cast<unsigned char>(c);
    if (out.size() >= max_chars && (u & 0xC0) != 0x80) {  // never inside a UTF-8 character
      out += "...";
      break;
    }
    if (u == '\n') out += "\\n";
    else if (u < 0x20 || u == 0x7f) out += cat("\\x", "0123456789abcdef"[u >> 4], "0123456789abcdef"[u & 15]);
    else out.push_back(c);
  }
  return out.empty() ? "(empty body)" : out;
}

}  // namespace fare::judge::openai
