#include "server/chat_output.h"

#include <atomic>
#include <cstdio>

namespace fare::server {

namespace {

// Length of the longest suffix of `text` that is a proper prefix of `marker`: those bytes may be
// the start of a marker that the next piece completes.
size_t held_back(std::string_view text, std::string_view marker) {
  for (size_t n = std::min(text.size(), marker.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  return 0;
}

std::string_view trim(std::string_view s) {
  const auto ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string next_call_id() {
  static std::atomic<uint64_t> counter{0};
  char buf[32];
  std::snprintf(buf, sizeof buf, "call_%08llx", static_cast<unsigned long long>(++counter));
  return buf;
}

}  // namespace

ReasoningSplitter::ReasoningSplitter(bool thinking_open)
    : state_(thinking_open ? State::kReasoning : State::kStart) {}

ReasoningSplitter::Delta ReasoningSplitter::feed(std::string_view piece) {
  pending_ += piece;
  return drain(false);
}

ReasoningSplitter::Delta ReasoningSplitter::finish() { return drain(true); }

ReasoningSplitter::Delta ReasoningSplitter::drain(bool final) {
  Delta out;
  for (;;) {
    if (state_ == State::kStart) {
      if (pending_.starts_with(kThinkOpen)) {
        pending_.erase(0, kThinkOpen.size());
        state_ = State::kReasoning;
        continue;
      }
      if (!final && std::string_view(kThinkOpen).starts_with(pending_)) return out;  // undecided yet
      state_ = State::kContent;
    }
    if (state_ == State::kReasoning) {
      const size_t end = pending_.find(kThinkClose);
      if (end != std::string::npos) {
        out.reasoning += pending_.substr(0, end);
        pending_.erase(0, end + kThinkClose.size());
        state_ = State::kContent;
        continue;
      }
      const size_t keep = final ? 0 : held_back(pending_, kThinkClose);
      out.reasoning += pending_.substr(0, pending_.size() - keep);
      pending_.erase(0, pending_.size() - keep);
      return out;
    }
    out.content += pending_;
    pending_.clear();
    return out;
  }
}

SplitText split_reasoning(std::string_view text, bool thinking_open) {
  ReasoningSplitter splitter(thinking_open);
  ReasoningSplitter::Delta a = splitter.feed(text), b = splitter.finish();
  SplitText out;
  out.content = a.content + b.content;
  const bool had_block = thinking_open || text.starts_with(kThinkOpen);
  if (had_block) out.reasoning = a.reasoning + b.reasoning;
  return out;
}

ParsedContent parse_tool_calls(std::string_view content) {
  ParsedContent out;
  std::string rest;
  size_t pos = 0;
  while (pos < content.size()) {
    const size_t open = content.find(kToolCallOpen, pos);
    if (open == std::string_view::npos) break;
    const size_t body = open + kToolCallOpen.size();
    const size_t close = content.find(kToolCallClose, body);
    if (close == std::string_view::npos) break;
    rest += content.substr(pos, open - pos);
    const std::string_view inner = content.substr(body, close - body);
    const auto j = nlohmann::ordered_json::parse(inner, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("name") && j["name"].is_string()) {
      ToolCall c;
      c.id = next_call_id();
      c.name = j["name"].get<std::string>();
      const auto args = j.contains("arguments") ? j["arguments"] : nlohmann::ordered_json::object();
      c.arguments = args.is_string() ? args.get<std::string>() : args.dump();
      out.calls.push_back(std::move(c));
    } else {
      rest += content.substr(open, close + kToolCallClose.size() - open);
    }
    pos = close + kToolCallClose.size();
  }
  rest += content.substr(std::min(pos, content.size()));
  out.content = out.calls.empty() ? std::string(content) : std::string(trim(rest));
  return out;
}

nlohmann::ordered_json tool_calls_to_json(const std::vector<ToolCall>& calls, bool with_index) {
  auto arr = nlohmann::ordered_json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    nlohmann::ordered_json c;
    if (with_index) c["index"] = i;
    c["id"] = calls[i].id;
    c["type"] = "function";
    c["function"] = {{"name", calls[i].name}, {"arguments", calls[i].arguments}};
    arr.push_back(std::move(c));
  }
  return arr;
}

SplitText harmony_split(const HarmonyOutput& out) {
  SplitText s;
  s.content = out.answer;
  for (const HarmonyMessage& m : out.messages)
    if (m.role == "assistant" && m.channel == "analysis" && m.recipient.empty()) s.reasoning = out.reasoning;
  return s;
}

std::vector<ToolCall> harmony_tool_calls(const HarmonyOutput& out) {
  constexpr std::string_view kFunctions = "functions.";
  std::vector<ToolCall> calls;
  for (const HarmonyMessage& m : out.messages) {
    if (m.role != "assistant" || !m.recipient.starts_with(kFunctions) || m.recipient.size() == kFunctions.size())
      continue;
    calls.push_back({next_call_id(), m.recipient.substr(kFunctions.size()), m.content});
  }
  return calls;
}

ChatSplitter::ChatSplitter(bool harmony, bool thinking_open) {
  if (harmony)
    harmony_.emplace();
  else
    think_.emplace(thinking_open);
}

ReasoningSplitter::Delta ChatSplitter::feed(std::string_view piece) {
  return harmony_ ? from(harmony_->feed(piece)) : think_->feed(piece);
}

ReasoningSplitter::Delta ChatSplitter::finish() { return harmony_ ? from(harmony_->finish()) : think_->finish(); }

}  // namespace fare::server
