// A chat completion's text split the way OpenAI-compatible servers return it: the thinking
// (Qwen3's <think> block) apart from the answer, and Qwen3's <tool_call> blocks parsed into
// tool calls. The split keeps every byte, as vLLM's qwen3 reasoning parser does, so that
// "<think>" + reasoning + "</think>" + content gives back the model's text exactly.
// gpt-oss (harmony) output is split by channel instead (ChatSplitter): the analysis channel is
// the reasoning, the final channel the content, and assistant messages to functions.NAME are the
// tool calls; the markup and anything else (commentary, text outside messages) is neither.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/harmony_output.h"

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

// gpt-oss: the reasoning (set when an analysis message began) and the content of a parsed output.
SplitText harmony_split(const HarmonyOutput& out);
// gpt-oss: every assistant message addressed to "functions.NAME", its text the arguments.
std::vector<ToolCall> harmony_tool_calls(const HarmonyOutput& out);

// The split a chat response streams with: Qwen3's think block, or harmony's channels.
class ChatSplitter {
 public:
  ChatSplitter(bool harmony, bool thinking_open);
  ReasoningSplitter::Delta feed(std::string_view piece);
  ReasoningSplitter::Delta finish();
  // The parsed output so far; null unless harmony.
  const HarmonyOutput* harmony_output() const { return harmony_ ? &harmony_->output() : nullptr; }

 private:
  static ReasoningSplitter::Delta from(const HarmonyStreamParser::Delta& d) { return {d.reasoning, d.answer}; }
  std::optional<ReasoningSplitter> think_;
  std::optional<HarmonyStreamParser> harmony_;
};

}  // namespace fare::server
