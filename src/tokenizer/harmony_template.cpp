// gpt-oss's chat template, rendered natively. Each function follows one part of the Jinja source
// (tests/tokenizer/harmony/chat_template.jinja) and keeps its quirks, because the model was
// trained on exactly what they produce: JSON values are read with Jinja's rules (a missing key
// is undefined, truthiness is Python's), and the whitespace that the template leaks into tool
// signatures is reproduced.
#include "tokenizer/harmony_template.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tokenizer/chat_writer.h"
#include "tokenizer/python_json.h"

namespace fare {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kDefaultIdentity = "You are ChatGPT, a large language model trained by OpenAI.";
constexpr std::string_view kChannelsLine =
    "# Valid channels: analysis, commentary, final. Channel must be included for every message.";
constexpr std::string_view kToolsChannelLine = "\nCalls to these tools must go to the commentary channel: 'functions'.";

// ---- JSON as the template sees it -----------------------------------------------------------

// `v.key` in Jinja: undefined (nullptr) unless v is an object holding the key.
const ordered_json* get(const ordered_json* v, const char* key) {
  if (v == nullptr || !v->is_object()) return nullptr;
  auto it = v->find(key);
  return it == v->end() ? nullptr : &*it;
}

// Python's truthiness; undefined is false.
bool truthy(const ordered_json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number_float()) return v->get<double>() != 0.0;
  if (v->is_number()) return *v != 0;
  if (v->is_string()) return !v->get_ref<const std::string&>().empty();
  return !v->empty();
}

bool is_string(const ordered_json* v, std::string_view s) {
  return v != nullptr && v->is_string() && v->get_ref<const std::string&>() == s;
}

// Where the template concatenates a value to a string, Python fails unless it is a string.
const std::string& text_at(const ordered_json* v, const std::string& where) {
  if (v == nullptr) fail("chat template: ", where, " is missing");
  if (!v->is_string()) fail("chat template: ", where, " must be a string, got ", v->type_name());
  return v->get_ref<const std::string&>();
}

// Python's str() of a list item, as the join filter and {{ }} print it.
std::string python_str(const ordered_json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_float()) return python_float_repr(v.get<double>());
  if (v.is_number()) return v.dump();
  fail("chat template: ", where, " must hold strings, numbers or booleans, got ", v.type_name());
}

// `name in (required or [])`.
bool is_required(const ordered_json* required, const std::string& name, const std::string& where) {
  if (!truthy(required)) return false;
  if (required->is_array()) {
    for (const ordered_json& r : *required)
      if (r.is_string() && r.get_ref<const std::string&>() == name) return true;
    return false;
  }
  if (required->is_string()) return contains(required->get_ref<const std::string&>(), name);
  if (required->is_object()) return required->contains(name);
  fail("chat template: ", where, ".required must be a list of names, got ", required->type_name());
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// ---- render_typescript_type -----------------------------------------------------------------

void write_type(ChatWriter& w, const ordered_json* spec, const std::string& where);

// A list joined by `sep` (markup), each item the caller's text.
void write_joined(ChatWriter& w, const ordered_json& list, std::string_view sep, const std::string& where) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) w.markup(sep);
    w.content(python_str(list[i], where));
  }
}

void write_array_type(ChatWriter& w, const ordered_json* spec, const std::string& where) {
  // A missing "items" reads as dict.items (truthy) in the template, and then renders "any[]" as
  // a falsy one does.
  const ordered_json* items = get(spec, "items");
  if (truthy(items)) {
    const ordered_json* type = get(items, "type");
    if (is_string(type, "string")) {
      w.markup("string[]");
    } else if (is_string(type, "number") || is_string(type, "integer")) {
      w.markup("number[]");
    } else if (is_string(type, "boolean")) {
      w.markup("boolean[]");
    } else {
      ChatWriter inner;
      write_type(inner, items, where + ".items");
      const RenderedChat t = inner.take();
      if (t.text == "object | object" || utf8_length(t.text) > 50) {
        w.markup("any[]");
      } else {
        w.append(t);
        w.markup("[]");
      }
    }
  } else {
    w.markup("any[]");
  }
  if (truthy(get(spec, "nullable"))) w.markup(" | null");
}

// oneOf: the template means to print "any" for unions with an object variant, but its flag is
// set inside a for loop, where Jinja's scoping drops it; so every variant is printed.
void write_one_of(ChatWriter& w, const ordered_json& variants, const std::string& where) {
  if (!variants.is_array()) fail("chat template: ", where, ".oneOf must be an array, got ", variants.type_name());
  for (size_t i = 0; i < variants.size(); ++i) {
    const ordered_json* v = &variants[i];
    const std::string at = cat(where, ".oneOf[", i, "]");
    write_type(w, v, at);
    if (truthy(get(v, "description"))) {
      w.markup("// ");
      w.content(text_at(get(v, "description"), at + ".description"));
    }
    if (const ordered_json* d = get(v, "default")) {
      w.markup("                    // default: ");
      w.content(python_json_dumps(*d));
    }
    if (i + 1 < variants.size()) w.markup(" | \n");
  }
}

void write_object_type(ChatWriter& w, const ordered_json* spec, const std::string& where) {
  const ordered_json* props = get(spec, "properties");
  if (!truthy(props)) {
    w.markup("object");
    return;
  }
  if (!props->is_object()) fail("chat template: ", where, ".properties must be an object, got ", props->type_name());
  w.markup("{\n");
  size_t i = 0;
  for (const auto& [name, prop] : props->items()) {
    w.content(name);
    if (!is_required(get(spec, "required"), name, where)) w.markup("?");
    w.markup(": \n                ");
    write_type(w, &prop, where + ".properties." + name);
    if (++i < props->size()) w.markup(", ");
  }
  w.markup("}");
}

void write_type(ChatWriter& w, const ordered_json* spec, const std::string& where) {
  const ordered_json* type = get(spec, "type");
  if (is_string(type, "array")) {
    write_array_type(w, spec, where);
  } else if (type != nullptr && type->is_array() && !type->empty()) {
    write_joined(w, *type, " | ", where + ".type");
  } else if (truthy(get(spec, "oneOf"))) {
    write_one_of(w, *get(spec, "oneOf"), where);
  } else if (is_string(type, "string")) {
    const ordered_json* values = get(spec, "enum");
    if (truthy(values)) {
      if (!values->is_array()) fail("chat template: ", where, ".enum must be an array, got ", values->type_name());
      w.markup("\"");
      write_joined(w, *values, "\" | \"", where + ".enum");
      w.markup("\"");
    } else {
      w.markup(truthy(get(spec, "nullable")) ? "string | null" : "string");
    }
  } else if (is_string(type, "number") || is_string(type, "integer")) {
    w.markup("number");
  } else if (is_string(type, "boolean")) {
    w.markup("boolean");
  } else if (is_string(type, "object")) {
    write_object_type(w, spec, where);
  } else {
    w.markup("any");
  }
}

// ---- render_tool_namespace ------------------------------------------------------------------

void write_parameter(ChatWriter& w, const std::string& name, const ordered_json& spec, const ordered_json* params,
                     const std::string& where) {
  if (truthy(get(&spec, "description"))) {
    w.markup("// ");
    w.content(text_at(get(&spec, "description"), where + ".description"));
    w.markup("\n");
  }
  w.content(name);
  if (!is_required(get(params, "required"), name, where)) w.markup("?");
  w.markup(": ");
  write_type(w, &spec, where);
  if (const ordered_json* d = get(&spec, "default")) {
    // With an enum or a oneOf the template adds the default as a string, without quotes.
    if (truthy(get(&spec, "enum"))) {
      w.markup(", // default: ");
      w.content(text_at(d, where + ".default"));
    } else if (truthy(get(&spec, "oneOf"))) {
      w.markup("// default: ");
      w.content(text_at(d, where + ".default"));
    } else {
      w.markup(", // default: ");
      w.content(python_json_dumps(*d));
    }
  }
  w.markup(",\n");
}

void write_tools(ChatWriter& w, const ordered_json& tools) {
  w.markup("# Tools\n\n## functions\n\nnamespace functions {\n\n");
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = cat("tools[", i, "].function");
    const ordered_json* fn = get(&tools[i], "function");
    if (fn == nullptr) fail("chat template: tools[", i, "] has no 'function' ({\"type\": \"function\", \"function\": {...}})");
    w.markup("// ");
    w.content(text_at(get(fn, "description"), where + ".description"));
    w.markup("\ntype ");
    w.content(text_at(get(fn, "name"), where + ".name"));
    w.markup(" = ");
    const ordered_json* params = get(fn, "parameters");
    const ordered_json* props = get(params, "properties");
    if (truthy(params) && truthy(props)) {
      if (!props->is_object())
        fail("chat template: ", where, ".parameters.properties must be an object, got ", props->type_name());
      w.markup("(_: {\n");
      for (const auto& [name, spec] : props->items())
        write_parameter(w, name, spec, params, where + ".parameters.properties." + name);
      w.markup("}) => any;\n\n");
    } else {
      w.markup("() => any;\n\n");
    }
  }
  w.markup("} // namespace functions");
}

// ---- system and developer messages ----------------------------------------------------------

std::string today() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &local);
  return buf;
}

bool is_iso_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  return true;
}

void write_system(ChatWriter& w, const ChatOptions& opts, bool has_tools) {
  const std::string& effort = opts.reasoning_effort;
  if (!effort.empty() && effort != "low" && effort != "medium" && effort != "high")
    fail("chat template: reasoning effort must be low, medium or high, got '", effort, "'");
  if (!opts.date.empty() && !is_iso_date(opts.date))
    fail("chat template: the date must be YYYY-MM-DD, got '", opts.date, "'");
  w.markup("<|start|>system<|message|>");
  if (opts.model_identity) {
    w.content(*opts.model_identity);
  } else {
    w.markup(kDefaultIdentity);
  }
  w.markup("\nKnowledge cutoff: 2024-06\nCurrent date: ");
  w.markup(opts.date.empty() ? today() : opts.date);
  w.markup("\n\nReasoning: ");
  w.markup(effort.empty() ? "medium" : effort);
  w.markup("\n\n");
  w.markup(kChannelsLine);
  if (has_tools) w.markup(kToolsChannelLine);
  w.markup("<|end|>");
}

// The first message, when it is a system or developer one, becomes the developer message's
// instructions; tools are declared there too.
void write_developer(ChatWriter& w, const std::string& instructions, const ordered_json& tools) {
  if (instructions.empty() && tools.empty()) return;
  w.markup("<|start|>developer<|message|>");
  if (!instructions.empty()) {
    w.markup("# Instructions\n\n");
    w.content(instructions);
    w.markup("\n\n");
  }
  if (!tools.empty()) write_tools(w, tools);
  w.markup("<|end|>");
}

// ---- the conversation -----------------------------------------------------------------------

void refuse_channel_markup(std::string_view text, size_t index, const char* field) {
  if (contains(text, "<|channel|>analysis<|message|>") || contains(text, "<|channel|>final<|message|>"))
    fail("messages[", index, "].", field,
         " holds <|channel|> markup; pass the analysis text as 'thinking' (or 'reasoning_content') and the final "
         "answer as 'content'");
}

void write_analysis(ChatWriter& w, std::string_view text) {
  w.markup("<|start|>assistant<|channel|>analysis<|message|>");
  w.content(text);
  w.markup("<|end|>");
}

// An assistant turn with tool calls: the template renders only the first call. Its reasoning is
// kept unless a later assistant turn gave a final answer. Returns the function's name.
std::string write_tool_call(ChatWriter& w, const std::vector<ChatMessage>& messages, size_t i) {
  const ChatMessage& m = messages[i];
  bool answered_later = false;
  for (size_t j = i + 1; j < messages.size(); ++j)
    answered_later |= messages[j].role == "assistant" && messages[j].tool_calls_json.empty();
  const ordered_json calls = parse_chat_json_array(m.tool_calls_json, cat("message ", i, ": tool_calls"));
  if (calls.empty()) fail("messages[", i, "].tool_calls: empty");
  const ordered_json* call = &calls[0];
  if (truthy(get(call, "function"))) call = get(call, "function");
  const std::string where = cat("messages[", i, "].tool_calls[0]");
  const bool has_thinking = m.reasoning_content && !m.reasoning_content->empty();
  if (!m.content.empty() && has_thinking)
    fail("messages[", i, "]: an assistant turn with tool calls may have content or thinking, not both");
  if (!m.content.empty() && !answered_later) write_analysis(w, m.content);
  if (has_thinking && !answered_later) write_analysis(w, *m.reasoning_content);
  const std::string& name = text_at(get(call, "name"), where + ".name");
  w.markup("<|start|>assistant to=functions.");
  w.content(name);
  w.markup("<|channel|>commentary ");
  if (const ordered_json* type = get(call, "content_type")) {
    w.content(text_at(type, where + ".content_type"));
  } else {
    w.markup("json");
  }
  w.markup("<|message|>");
  const ordered_json* args = get(call, "arguments");
  if (args == nullptr) fail("chat template: ", where, ".arguments is missing");
  w.content(python_json_dumps(*args));
  w.markup("<|call|>");
  return name;
}

void write_final(ChatWriter& w, std::string_view content, std::string_view end) {
  w.markup("<|start|>assistant<|channel|>final<|message|>");
  w.content(content);
  w.markup(end);
}

}  // namespace

bool is_harmony_template(std::string_view source) {
  std::string src(source);
  std::erase(src, '\r');
  for (std::string_view marker :
       {"<|start|>system<|message|>", "<|start|>developer<|message|>", "Knowledge cutoff: 2024-06", "reasoning_effort",
        "# Valid channels: analysis, commentary, final.", "render_typescript_type", "future_final_message", "<|call|>",
        "content_type", "\"<|return|>\"", "{%- if add_generation_prompt -%}\n<|start|>assistant\n{%- endif -%}"}) {
    if (!contains(src, marker)) return false;
  }
  // Variants that keep earlier turns' reasoning or pass tool results through unquoted render
  // something else.
  return !contains(src, "{%- elif \"thinking\" in message %}") && !contains(src, "message.content is string");
}

RenderedChat render_harmony(const std::vector<ChatMessage>& messages, const ChatOptions& opts) {
  if (messages.empty()) fail("chat template: there are no messages to render");
  const ordered_json tools =
      opts.tools_json.empty() ? ordered_json::array() : parse_chat_json_array(opts.tools_json, "tools");
  ChatWriter w;
  write_system(w, opts, !tools.empty());
  const bool has_instructions = messages[0].role == "system" || messages[0].role == "developer";
  write_developer(w, has_instructions ? messages[0].content : std::string(), tools);
  std::optional<std::string> last_call;  // the function a tool result answers
  for (size_t i = has_instructions ? 1 : 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "assistant") {
      refuse_channel_markup(m.content, i, "content");
      if (m.reasoning_content) refuse_channel_markup(*m.reasoning_content, i, "thinking");
      if (!m.tool_calls_json.empty()) {
        last_call = write_tool_call(w, messages, i);
      } else if (i + 1 == messages.size() && !opts.add_generation_prompt) {
        // A finished conversation (training data): the last turn keeps its reasoning and ends
        // with <|return|>.
        if (m.reasoning_content) write_analysis(w, *m.reasoning_content);
        write_final(w, m.content, "<|return|>");
      } else {
        write_final(w, m.content, "<|end|>");
        last_call.reset();
      }
    } else if (m.role == "tool") {
      if (!last_call) fail("messages[", i, "]: a tool result must follow an assistant turn with a tool call");
      w.markup("<|start|>functions.");
      w.content(*last_call);
      w.markup(" to=assistant<|channel|>commentary<|message|>");
      w.content(python_json_dumps(ordered_json(m.content)));
      w.markup("<|end|>");
    } else if (m.role == "user") {
      w.markup("<|start|>user<|message|>");
      w.content(m.content);
      w.markup("<|end|>");
    }
    // A system or developer message after the first is not rendered by the template.
  }
  if (opts.add_generation_prompt) w.markup("<|start|>assistant");
  return w.take();
}

}  // namespace fare
