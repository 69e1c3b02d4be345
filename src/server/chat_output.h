// A chat completion's text split the way OpenAI-compatible servers return it: the thinking
// (Qwen3's <think> block) apart from the answer, and Qwen3's <tool_call> blocks parsed into
// tool calls. The split keeps every byte, as vLLM's qwen3 reasoning parser does, so that
// "<think>" + reasoning + "</think>" + content gives back the model's text exactly.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fare::server {

inline constexpr std::string_view kThinkOpen = "<think>";
inline constexpr std::string_view kThinkClose = "</think>";
inline constexpr std::string_view kToolCallOpen = "<tool_call>";
inline constexpr std::string_view kToolCallClose = "</tool_call>";

// Splits text as it streams in. `thinking_open`: the prompt already opened the think block (a
// template that ends the generation prompt with "<think>\n"), so the text starts in it.
class ReasoningSplitter {
 public:
  explicit ReasoningSplitter(bool thinking_open = false);
  struct Delta {
    std::string reasoning, content;
  };
  // New text in, what can be told apart so far out; a possible marker prefix is held back.
  Delta feed(std::string_view piece);
  Delta finish();  // the end of the text: whatever was held back

 private:
  enum class State { kStart, kReasoning, kContent };
  Delta drain(bool final);
  State state_;
  std::string pending_;
};

struct SplitText {
  std::optional<std::string> reasoning;  // nullopt: the text had no think block
  std::string content;
};
SplitText split_reasoning(std::string_view text, bool thinking_open = false);

struct ToolCall {
  std::string id;         // "call_" + a counter unique within the server
  std::string name;
  std::string arguments;  // JSON text, as OpenAI's API sends it
};

struct ParsedContent {
  std::string content;  // with the parsed <tool_call> blocks taken out and trimmed
  std::vector<ToolCall> calls;
};
// Qwen3's tool calls: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>. A block whose
// JSON does not parse, or lacks a string "name", stays in the content unchanged.
ParsedContent parse_tool_calls(std::string_view content);
nlohmann::ordered_json tool_calls_to_json(const std::vector<ToolCall>& calls, bool with_index);

}  // namespace fare::server
