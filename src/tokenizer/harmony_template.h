// gpt-oss's chat template (the "harmony" format of openai/gpt-oss-20b and -120b), rendered
// natively: byte for byte what Hugging Face apply_chat_template renders from that template.
//
//   <|start|>system<|message|>{identity, date, reasoning effort, channels}<|end|>
//   <|start|>developer<|message|># Instructions\n\n{first system or developer message}\n\n# Tools ...<|end|>
//   <|start|>user<|message|>...<|end|>
//   <|start|>assistant<|channel|>final<|message|>...<|end|>        earlier answers, reasoning dropped
//   <|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{args}<|call|>
//   <|start|>functions.NAME to=assistant<|channel|>commentary<|message|>"result"<|end|>
//   <|start|>assistant                                              the generation prompt
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/chat_template.h"

namespace fare {

// Whether `source` is gpt-oss's template, in the version that ends tool calls with <|call|>.
bool is_harmony_template(std::string_view source);

// fare::Error where the template raises (channel markup inside an assistant message, content and
// thinking both beside a tool call, a tool result with no call before it) and on malformed tools
// or options.
RenderedChat render_harmony(const std::vector<ChatMessage>& messages, const ChatOptions& opts);

}  // namespace fare
