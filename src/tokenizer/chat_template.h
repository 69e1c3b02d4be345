// The model's chat template rendered natively, byte for byte as Hugging Face
// apply_chat_template(messages, add_generation_prompt=True) renders it, together with which bytes
// came from the messages: those are tokenized as plain text, so that a message cannot write turn
// markers ("<|im_end|>") of its own.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace fare {

struct ChatMessage {
  std::string role;  // system, developer (gpt-oss), user, assistant, tool
  std::string content;
  std::optional<std::string> reasoning_content;  // gpt-oss's template calls it "thinking"
  std::string tool_calls_json;  // JSON array as text, empty when none
};

struct ChatOptions {
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;  // unset: the template's default
  std::string tools_json;               // JSON array as text, empty when none
  // gpt-oss (harmony) only, the system message's kwargs. reasoning_effort: "low", "medium" or
  // "high", empty for the template's default (medium). model_identity: its first line, unset for
  // the template's "You are ChatGPT, ...". date: "Current date: " as YYYY-MM-DD, empty for today
  // in local time (the template's strftime_now).
  std::string reasoning_effort;
  std::optional<std::string> model_identity;
  std::string date;
  // Off (the default): special- and added-token text inside messages and tools is plain text, and
  // only the template's own markup becomes control tokens. On: such text anywhere in the rendered
  // chat becomes its token, as Hugging Face apply_chat_template(tokenize=True) does; then a
  // message containing "<|im_end|>" closes its turn. Read by Engine::chat_prompt.
  bool special_in_content = false;
};

struct RenderedChat {
  std::string text;
  // Byte ranges of `text` copied from the caller (message roles, contents, reasoning, tool calls,
  // tool definitions), ascending and disjoint; the rest is the template's markup.
  std::vector<TextSpan> content;
};

class ChatTemplate {
 public:
  // `source` is the Jinja text from tokenizer_config.json or GGUF tokenizer.chat_template.
  // Throws fare::Error when the template is of a family this renderer does not implement.
  explicit ChatTemplate(std::string source);
  std::string render(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const;
  // The same text, with the spans that came from the messages and tools.
  RenderedChat render_marked(const std::vector<ChatMessage>& messages, const ChatOptions& opts) const;
  const std::string& source() const { return source_; }
  const std::string& family() const { return family_; }  // "qwen3", "chatml" or "harmony"

 private:
  std::string source_;
  std::string family_;
};

// Messages from a JSON array of {"role", "content", optional "reasoning_content" (or "thinking"),
// optional "tool_calls"}; throws fare::Error naming the index and the field. A null content is
// taken as empty (an assistant turn with only tool calls).
std::vector<ChatMessage> chat_messages_from_json(const nlohmann::json& arr);
// The same, keeping the key order of tool-call arguments (nlohmann::json sorts keys, and the
// template prints arguments in their original order).
std::vector<ChatMessage> chat_messages_from_json(const nlohmann::ordered_json& arr);

}  // namespace fare
