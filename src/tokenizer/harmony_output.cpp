// A small state machine over the output text: a message header runs to <|message|>, its body to
// <|end|>, <|return|> or <|call|>, and text between messages waits for the next <|start|>. Output
// that breaks the format (a body that runs into <|start|> or <|channel|>, a header cut short)
// closes what it can and keeps the rest as stray text, so that nothing outside a final message
// is ever taken for the answer.
#include "tokenizer/harmony_output.h"

#include <algorithm>
#include <initializer_list>

namespace fare {
namespace {

constexpr std::string_view kStart = "<|start|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kEnd = "<|end|>";
constexpr std::string_view kReturn = "<|return|>";
constexpr std::string_view kCall = "<|call|>";
constexpr std::string_view kConstrain = "<|constrain|>";
constexpr std::string_view kMarkers[] = {kStart, kChannel, kMessage, kEnd, kReturn, kCall};
constexpr size_t kLongestMarker = 11;  // <|message|>, <|channel|>

struct Found {
  size_t pos = std::string_view::npos;
  std::string_view marker;
};

Found find_first(std::string_view text, size_t from, std::initializer_list<std::string_view> markers) {
  Found f;
  for (std::string_view m : markers) {
    const size_t p = text.find(m, from);
    if (p < f.pos) f = {p, m};
  }
  return f;
}

// Length of the longest suffix of `text` that is a proper prefix of a marker: those bytes may
// be the start of a marker that the next piece completes.
size_t held_back(std::string_view text) {
  size_t keep = 0;
  for (std::string_view m : kMarkers) {
    for (size_t n = std::min(text.size(), m.size() - 1); n > keep; --n) {
      if (text.substr(text.size() - n) == m.substr(0, n)) {
        keep = n;
        break;
      }
    }
  }
  return keep;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\n' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// "commentary<|constrain|>json" is "commentary <|constrain|>json".
std::string spaced_constrain(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.substr(i).starts_with(kConstrain)) {
      out += ' ';
      out += kConstrain;
      i += kConstrain.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string joined(const std::vector<std::string_view>& parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

}  // namespace

HarmonyStreamParser::Delta HarmonyStreamParser::feed(std::string_view piece) {
  pending_ += piece;
  return drain(false);
}

HarmonyStreamParser::Delta HarmonyStreamParser::finish() { return drain(true); }

HarmonyStreamParser::Delta HarmonyStreamParser::drain(bool final) {
  Delta d;
  for (bool more = true; more;) {
    switch (state_) {
      case State::kHeader:
        more = drain_header(final);
        break;
      case State::kBody:
        more = drain_body(final, d);
        break;
      case State::kBetween:
        more = drain_between(final);
        break;
    }
  }
  return d;
}

// A header is read whole before anything of its message is told apart.
bool HarmonyStreamParser::drain_header(bool final) {
  const size_t from = scanned_ >= kLongestMarker ? scanned_ - (kLongestMarker - 1) : 0;
  const Found f = find_first(pending_, from, {kMessage, kStart, kEnd, kReturn, kCall});
  if (f.pos == std::string_view::npos) {
    scanned_ = pending_.size();
    if (final) {  // the text stopped inside a header
      out_.stray += pending_;
      pending_.clear();
    }
    return false;
  }
  const std::string_view header = std::string_view(pending_).substr(0, f.pos);
  if (f.marker == kMessage) {
    open_message(header);
    state_ = State::kBody;
  } else {  // cut short by a new message or an end: no message
    out_.stray += header;
    implied_role_ = false;
    state_ = f.marker == kStart ? State::kHeader : State::kBetween;
  }
  pending_.erase(0, f.pos + f.marker.size());
  scanned_ = 0;
  return true;
}

bool HarmonyStreamParser::drain_body(bool final, Delta& d) {
  const Found f = find_first(pending_, 0, {kEnd, kReturn, kCall, kStart, kChannel});
  if (f.pos == std::string_view::npos) {
    const size_t ready = pending_.size() - (final ? 0 : held_back(pending_));
    append_content(std::string_view(pending_).substr(0, ready), d);
    pending_.erase(0, ready);
    return false;  // at the end, the message stays open: the text stopped in it
  }
  append_content(std::string_view(pending_).substr(0, f.pos), d);
  if (f.marker == kChannel) {
    // A new assistant message without <|end|><|start|>assistant: the marker begins its header.
    close_message("");
    pending_.erase(0, f.pos);
    implied_role_ = true;
    state_ = State::kHeader;
  } else if (f.marker == kStart) {
    close_message("");
    pending_.erase(0, f.pos + f.marker.size());
    implied_role_ = false;
    state_ = State::kHeader;
  } else {
    close_message(f.marker);
    pending_.erase(0, f.pos + f.marker.size());
    state_ = State::kBetween;
  }
  return true;
}

bool HarmonyStreamParser::drain_between(bool final) {
  const Found f = find_first(pending_, 0, {kStart, kChannel});
  if (f.pos == std::string_view::npos) {
    const size_t ready = pending_.size() - (final ? 0 : held_back(pending_));
    out_.stray += std::string_view(pending_).substr(0, ready);
    pending_.erase(0, ready);
    return false;
  }
  out_.stray += std::string_view(pending_).substr(0, f.pos);
  implied_role_ = f.marker == kChannel;
  pending_.erase(0, f.marker == kStart ? f.pos + f.marker.size() : f.pos);
  state_ = State::kHeader;
  return true;
}

// "[role][ to=RECIPIENT]<|channel|>CHANNEL[ to=RECIPIENT][ CONTENT_TYPE]"; the first message's
// role ("assistant") was in the prompt.
void HarmonyStreamParser::open_message(std::string_view header) {
  HarmonyMessage m;
  const size_t c = header.find(kChannel);
  const std::string_view before = header.substr(0, c);
  if (implied_role_) m.role = "assistant";
  std::vector<std::string_view> junk;
  for (std::string_view w : words(before)) {
    if (w.starts_with("to=")) {
      m.recipient = w.substr(3);
    } else if (m.role.empty()) {
      m.role = w;
    } else {
      junk.push_back(w);
    }
  }
  if (c != std::string_view::npos) {
    const std::string after = spaced_constrain(header.substr(c + kChannel.size()));
    std::vector<std::string_view> type;
    for (std::string_view w : words(after)) {
      if (m.channel.empty() && !w.starts_with(kConstrain) && !w.starts_with("to=")) {
        m.channel = w;
      } else if (w.starts_with("to=")) {
        m.recipient = w.substr(3);
      } else {
        type.push_back(w);
      }
    }
    m.content_type = joined(type);
  }
  out_.stray += joined(junk);
  kind_ = Kind::kOther;
  if (m.role == "assistant" && m.recipient.empty()) {
    if (m.channel == "analysis") kind_ = Kind::kReasoning;
    if (m.channel == "final") kind_ = Kind::kAnswer;
  }
  out_.has_final |= kind_ == Kind::kAnswer;
  joined_ = false;
  out_.messages.push_back(std::move(m));
}

void HarmonyStreamParser::close_message(std::string_view end) {
  out_.messages.back().end = end;
  kind_ = Kind::kOther;
}

void HarmonyStreamParser::append_content(std::string_view text, Delta& d) {
  if (text.empty()) return;
  out_.messages.back().content += text;
  if (kind_ == Kind::kOther) return;
  std::string& all = kind_ == Kind::kReasoning ? out_.reasoning : out_.answer;
  std::string& delta = kind_ == Kind::kReasoning ? d.reasoning : d.answer;
  if (!joined_ && !all.empty()) {  // a second message of the same kind
    all += "\n\n";
    delta += "\n\n";
  }
  joined_ = true;
  all += text;
  delta += text;
}

HarmonyOutput parse_harmony_output(std::string_view text) {
  HarmonyStreamParser p;
  p.feed(text);
  p.finish();
  return p.output();
}

}  // namespace fare
