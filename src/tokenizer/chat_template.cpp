// Chat templates are rendered by native code per template family rather than by a Jinja
// interpreter: the family is recognised from the template text, and each renderer reproduces
// its template's output byte for byte (Hugging Face apply_chat_template semantics).
#include "tokenizer/chat_template.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tokenizer/chat_writer.h"
#include "tokenizer/harmony_template.h"
#include "tokenizer/python_json.h"

namespace fare {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kQwen3Family = "qwen3";
constexpr std::string_view kChatmlFamily = "chatml";
constexpr std::string_view kHarmonyFamily = "harmony";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Python's str.lstrip('\n') / rstrip('\n') / strip('\n').
std::string_view lstrip_nl(std::string_view s) {
  const size_t i = s.find_first_not_of('\n');
  return i == std::string_view::npos ? std::string_view() : s.substr(i);
}
std::string_view rstrip_nl(std::string_view s) {
  const size_t i = s.find_last_not_of('\n');
  return i == std::string_view::npos ? std::string_view() : s.substr(0, i + 1);
}
std::string_view strip_nl(std::string_view s) { return rstrip_nl(lstrip_nl(s)); }

// Python's s.split(sep)[-1] and s.split(sep)[0].
std::string_view after_last(std::string_view s, std::string_view sep) {
  const size_t i = s.rfind(sep);
  return i == std::string_view::npos ? s : s.substr(i + sep.size());
}
std::string_view before_first(std::string_view s, std::string_view sep) { return s.substr(0, s.find(sep)); }

// Qwen3's template (Qwen3 hybrid-thinking models): the think-block handling and tool markup
// are what set it apart. Qwen3 "Thinking-2507" opens <think> in the generation prompt itself,
// which this renderer does not do, so that variant is refused.
bool is_qwen3(std::string_view src) {
  for (std::string_view marker : {"<|im_start|>", "<|im_end|>", "reasoning_content", "last_query_index",
                                  "enable_thinking", "<tool_call>", "<tool_response>"}) {
    if (!contains(src, marker)) return false;
  }
  return !contains(src, R"('<|im_start|>assistant\n<think>\n')");
}

// The classic ChatML template: each message as <|im_start|>role\ncontent<|im_end|>\n and
// nothing else. Short and free of any default system prompt, tools or thinking logic: longer
// templates with <|im_start|> (Qwen2, Qwen2.5) add text this renderer would not.
bool is_plain_chatml(std::string_view src) {
  size_t n_visible = 0;
  for (char c : src) n_visible += c != ' ' && c != '\n' && c != '\t' && c != '\r';
  if (n_visible > 400 || !contains(src, "<|im_start|>") || !contains(src, "<|im_end|>")) return false;
  for (std::string_view extra : {"tool", "think", "reasoning", "You are", "system"}) {
    if (contains(src, extra)) return false;
  }
  return true;
}

void render_tools_system(ChatWriter& w, const std::vector<ChatMessage>& messages, const ordered_json& tools) {
  w.markup("<|im_start|>system\n");
  if (!messages.empty() && messages[0].role == "system") {
    w.content(messages[0].content);
    w.markup("\n\n");
  }
  w.markup(
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
  for (const ordered_json& tool : tools) {
    w.markup("\n");
    w.content(python_json_dumps(tool));
  }
  w.markup(
      "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
      "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
      "<args-json-object>}\n</tool_call><|im_end|>\n");
}

// The last user message that is not a tool response wrapped as user text; think blocks of
// assistant turns after it are kept, earlier ones dropped.
ptrdiff_t last_query_index(const std::vector<ChatMessage>& messages) {
  for (ptrdiff_t i = static_cast<ptrdiff_t>(messages.size()) - 1; i >= 0; --i) {
    const ChatMessage& m = messages[i];
    if (m.role == "user" && !(starts_with(m.content, "<tool_response>") && ends_with(m.content, "</tool_response>"))) {
      return i;
    }
  }
  return static_cast<ptrdiff_t>(messages.size()) - 1;
}

void render_tool_call(ChatWriter& w, const ordered_json& call, size_t msg_index, size_t call_index) {
  const ordered_json* fn = &call;
  if (call.is_object()) {
    auto it = call.find("function");
    if (it != call.end() && !it->is_null() && !it->empty()) fn = &*it;
  }
  const std::string where = cat("message ", msg_index, ": tool_calls[", call_index, "]");
  if (!fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
    fail(where, ": expected a string 'name'");
  if (!fn->contains("arguments")) fail(where, ": missing 'arguments'");
  const ordered_json& args = (*fn)["arguments"];
  w.markup("<tool_call>\n{\"name\": \"");
  w.content((*fn)["name"].get<std::string>());
  w.markup("\", \"arguments\": ");
  w.content(args.is_string() ? args.get<std::string>() : python_json_dumps(args));
  w.markup("}\n</tool_call>");
}

// Role names are the caller's text too: only the template's markers may be control tokens.
void open_turn(ChatWriter& w, std::string_view role) {
  w.markup("<|im_start|>");
  w.content(role);
  w.markup("\n");
}

void render_assistant(ChatWriter& w, const ChatMessage& m, size_t index, bool is_last, ptrdiff_t last_query) {
  std::string_view content = m.content;
  std::string_view reasoning;
  if (m.reasoning_content) {
    reasoning = *m.reasoning_content;
  } else if (contains(m.content, "</think>")) {
    content = lstrip_nl(after_last(m.content, "</think>"));
    reasoning = lstrip_nl(after_last(rstrip_nl(before_first(m.content, "</think>")), "<think>"));
  }
  open_turn(w, m.role);
  if (static_cast<ptrdiff_t>(index) > last_query && (is_last || !reasoning.empty())) {
    w.markup("<think>\n");
    w.content(strip_nl(reasoning));
    w.markup("\n</think>\n\n");
    w.content(lstrip_nl(content));
  } else {
    w.content(content);
  }
  if (!m.tool_calls_json.empty()) {
    const ordered_json calls = parse_chat_json_array(m.tool_calls_json, cat("message ", index, ": tool_calls"));
    for (size_t j = 0; j < calls.size(); ++j) {
      if (j > 0 || !content.empty()) w.markup("\n");
      render_tool_call(w, calls[j], index, j);
    }
  }
  w.markup("<|im_end|>\n");
}

// Consecutive tool messages share one user turn.
void render_tool(ChatWriter& w, const std::vector<ChatMessage>& messages, size_t i) {
  if (i == 0 || messages[i - 1].role != "tool") w.markup("<|im_start|>user");
  w.markup("\n<tool_response>\n");
  w.content(messages[i].content);
  w.markup("\n</tool_response>");
  if (i + 1 == messages.size() || messages[i + 1].role != "tool") w.markup("<|im_end|>\n");
}

void render_plain_turn(ChatWriter& w, const ChatMessage& m) {
  open_turn(w, m.role);
  w.content(m.content);
  w.markup("<|im_end|>\n");
}

RenderedChat render_qwen3(const std::vector<ChatMessage>& messages, const ChatOptions& opts) {
  // The template reads messages[0]; Hugging Face fails on an empty list too.
  if (messages.empty()) fail("chat template: there are no messages to render");
  const ordered_json tools =
      opts.tools_json.empty() ? ordered_json::array() : parse_chat_json_array(opts.tools_json, "tools");
  ChatWriter w;
  if (!tools.empty()) {
    render_tools_system(w, messages, tools);
  } else if (messages[0].role == "system") {
    render_plain_turn(w, messages[0]);
  }
  const ptrdiff_t last_query = last_query_index(messages);
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "developer") fail("messages[", i, "]: the qwen3 chat template has no developer role; use system");
    if (m.role == "user" || (m.role == "system" && i > 0)) {
      render_plain_turn(w, m);
    } else if (m.role == "assistant") {
      render_assistant(w, m, i, i + 1 == messages.size(), last_query);
    } else if (m.role == "tool") {
      render_tool(w, messages, i);
    }
  }
  if (opts.add_generation_prompt) {
    w.markup("<|im_start|>assistant\n");
    if (opts.enable_thinking == false) w.markup("<think>\n\n</think>\n\n");
  }
  return w.take();
}

RenderedChat render_chatml(const std::vector<ChatMessage>& messages, const ChatOptions& opts) {
  ChatWriter w;
  for (const ChatMessage& m : messages) render_plain_turn(w, m);
  if (opts.add_generation_prompt) w.markup("<|im_start|>assistant\n");
  return w.take();
}

std::string first_line(const std::string& s) {
  const std::string_view v = lstrip_nl(s);
  return std::string(v.substr(0, std::min<size_t>(v.find('\n'), 80)));
}

template <typename Json>
std::optional<std::string> optional_string(const Json& msg, const char* key, size_t index) {
  auto it = msg.find(key);
  if (it == msg.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail("messages[", index, "].", key, ": expected a string, got ", it->type_name());
  return it->template get<std::string>();
}

template <typename Json>
ChatMessage message_from_json(const Json& msg, size_t i) {
  if (!msg.is_object()) fail("messages[", i, "]: expected an object, got ", msg.type_name());
  ChatMessage m;
  std::optional<std::string> role = optional_string(msg, "role", i);
  if (!role) fail("messages[", i, "].role: missing");
  if (*role != "system" && *role != "developer" && *role != "user" && *role != "assistant" && *role != "tool") {
    fail("messages[", i, "].role: expected system, developer, user, assistant or tool, got '", *role, "'");
  }
  m.role = std::move(*role);
  if (!msg.contains("content")) fail("messages[", i, "].content: missing");
  m.content = optional_string(msg, "content", i).value_or("");  // null: an assistant turn with only tool calls
  m.reasoning_content = optional_string(msg, "reasoning_content", i);
  // gpt-oss's template calls the reasoning "thinking".
  if (std::optional<std::string> thinking = optional_string(msg, "thinking", i)) {
    if (m.reasoning_content && *m.reasoning_content != *thinking)
      fail("messages[", i, "]: 'reasoning_content' and 'thinking' differ; give one");
    m.reasoning_content = std::move(thinking);
  }
  auto calls = msg.find("tool_calls");
  if (calls != msg.end() && !calls->is_null()) {
    if (!calls->is_array()) fail("messages[", i, "].tool_calls: expected an array, got ", calls->type_name());
    m.tool_calls_json = calls->dump();
  }
  return m;
}

template <typename Json>
std::vector<ChatMessage> messages_from_json(const Json& arr) {
  if (!arr.is_array()) fail("messages: expected a JSON array, got ", arr.type_name());
  std::vector<ChatMessage> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) out.push_back(message_from_json(arr[i], i));
  return out;
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source) : source_(std::move(source)) {
  if (is_qwen3(source_)) {
    family_ = kQwen3Family;
  } else if (is_plain_chatml(source_)) {
    family_ = kChatmlFamily;
  } else if (is_harmony_template(source_)) {
    family_ = kHarmonyFamily;
  } else {
    fail(
        "unsupported chat template family (this build renders the Qwen3 template, plain ChatML and gpt-oss's "
        "harmony template); template starts with '",
        first_line(source_), "'; pass --chat-template FILE with a supported template");
  }
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const {
  return render_marked(messages, opts).text;
}

RenderedChat ChatTemplate::render_marked(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const {
  if (family_ == kQwen3Family) return render_qwen3(messages, opts);
  if (family_ == kHarmonyFamily) return render_harmony(messages, opts);
  FARE_CHECK(family_ == kChatmlFamily, "unknown family ", family_);
  return render_chatml(messages, opts);
}

ordered_json parse_chat_json_array(const std::string& text, std::string_view what) {
  ordered_json v;
  try {
    v = ordered_json::parse(text);
  } catch (const ordered_json::exception& e) {  // parse_error, or out_of_range for a number beyond double's range
    fail("chat template: ", what, " is not valid JSON: ", e.what());
  }
  if (!v.is_array()) fail("chat template: ", what, " must be a JSON array, got ", v.type_name());
  return v;
}

std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& arr) { return messages_from_json(arr); }

std::vector<ChatMessage> chat_messages_from_json(const nlohmann::ordered_json& arr) { return messages_from_json(arr); }

}  // namespace fare
