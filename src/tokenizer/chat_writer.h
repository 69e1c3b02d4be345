// What the native chat-template renderers share: the writer that keeps apart the template's own
// markup from the caller's text, and the JSON reading of tools and tool calls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tokenizer/chat_template.h"

namespace fare {

// Collects the rendering and remembers which bytes came from the caller: `markup` is the
// template's own text, `content` anything taken from messages or tools.
class ChatWriter {
 public:
  void markup(std::string_view s) { out_.text += s; }
  void content(std::string_view s) {
    if (s.empty()) return;
    const size_t begin = out_.text.size();
    out_.text += s;
    // Adjacent fields (a role, then its content) make one span.
    if (!out_.content.empty() && out_.content.back().end == begin) {
      out_.content.back().end = out_.text.size();
    } else {
      out_.content.push_back({begin, out_.text.size()});
    }
  }
  // Another writer's rendering, its spans kept.
  void append(const RenderedChat& part) {
    const std::string_view text = part.text;
    size_t pos = 0;
    for (const TextSpan& s : part.content) {
      markup(text.substr(pos, s.begin - pos));
      content(text.substr(s.begin, s.end - s.begin));
      pos = s.end;
    }
    markup(text.substr(pos));
  }
  const std::string& text() const { return out_.text; }
  RenderedChat take() { return std::move(out_); }

 private:
  RenderedChat out_;
};

inline bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// `text` parsed as a JSON array (tools, tool calls); fare::Error naming `what` otherwise.
nlohmann::ordered_json parse_chat_json_array(const std::string& text, std::string_view what);

}  // namespace fare
