// What a gpt-oss model generates after the harmony generation prompt ("<|start|>assistant"),
// split into its messages, whole or as it streams in:
//
//   <|channel|>analysis<|message|>REASONING<|end|><|start|>assistant<|channel|>final<|message|>ANSWER<|return|>
//   <|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x": 1}<|call|>     (a tool call)
//
// The reasoning is the analysis channel, the answer the final channel, both of the assistant
// and addressed to no one; everything else (tool calls, commentary, text outside messages) is
// neither. The special tokens must have been decoded as their text. <|return|> and <|call|> end
// a generation, so the text may stop right before them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fare {

struct HarmonyMessage {
  std::string role;          // "assistant" for the first (its header is in the prompt)
  std::string channel;       // "analysis", "final", "commentary", ...; empty when the header named none
  std::string recipient;     // "functions.get_weather" for a tool call ("to=..."), empty otherwise
  std::string content_type;  // "json" or "<|constrain|>json" after the channel, empty otherwise
  std::string content;
  std::string end;           // "<|end|>", "<|return|>" or "<|call|>"; empty: the text stopped in it, or a new message began
};

struct HarmonyOutput {
  std::string reasoning;  // the analysis messages' text, "\n\n" between two of them
  std::string answer;     // the final messages' text, likewise; empty when there was none
  // Whether a final message began. False when the generation stopped before its answer (out of
  // tokens while reasoning) or only called a tool: then there is no answer to read.
  bool has_final = false;
  std::vector<HarmonyMessage> messages;  // in order, tool calls and commentary included
  // Text in no message: between messages, or a header that never reached <|message|>.
  std::string stray;
};

// Reads the output as it streams in. Each piece of text is told apart as reasoning or answer as
// soon as it can be: bytes that may begin a marker ("<|en" of "<|end|>") wait for the next piece.
// Splitting the same text anywhere gives the same result as reading it whole.
class HarmonyStreamParser {
 public:
  struct Delta {
    std::string reasoning, answer;
  };
  Delta feed(std::string_view piece);
  Delta finish();  // the end of the text: what was held back
  const HarmonyOutput& output() const { return out_; }

 private:
  enum class State { kHeader, kBody, kBetween };
  Delta drain(bool final);
  bool drain_header(bool final);
  bool drain_body(bool final, Delta& d);
  bool drain_between(bool final);
  void open_message(std::string_view header);
  void close_message(std::string_view end);
  void append_content(std::string_view text, Delta& d);

  State state_ = State::kHeader;
  bool implied_role_ = true;  // the current header's role was in the prompt ("<|start|>assistant")
  std::string pending_;       // text not yet consumed
  size_t scanned_ = 0;        // pending_ bytes known to hold no marker start
  enum class Kind { kReasoning, kAnswer, kOther } kind_ = Kind::kOther;  // of the open message
  bool joined_ = false;  // the open message's text was appended to reasoning or answer already
  HarmonyOutput out_;
};

// The whole output at once.
HarmonyOutput parse_harmony_output(std::string_view text);

}  // namespace fare
