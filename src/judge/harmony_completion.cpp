#include "judge/harmony_completion.h"

#include <algorithm>

#include "judge/verdict.h"

namespace fare::judge {

std::string HarmonyCompletion::feed(const HarmonyPiece& piece) {
  std::string out;
  if (!opened_) {
    out += kThinkOpen;
    opened_ = true;
  }
  if (!piece.text.empty()) take(parser_.feed(escape_ordinary(piece.text)), out);
  if (!piece.marker.empty()) {
    after_lt_ = false;
    take(parser_.feed(piece.marker), out);
  }
  return out;
}

std::string HarmonyCompletion::finish() {
  std::string out;
  if (!opened_) {
    out += kThinkOpen;
    opened_ = true;
  }
  take(parser_.finish(), out);
  if (!closed_) flush_reasoning(out);
  return out;
}

// "<|" of ordinary tokens, even split between two of them, becomes "<\|": no marker begins there.
std::string HarmonyCompletion::escape_ordinary(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|' && after_lt_) out += '\\';
    out += c;
    after_lt_ = c == '<';
  }
  return out;
}

// A delta's analysis text goes inside the think block, escaped, until the final message begins;
// then the block closes and the final text follows. Analysis after that (which gpt-oss does not
// write: <|return|> ends its turn) is left out.
void HarmonyCompletion::take(const HarmonyStreamParser::Delta& d, std::string& out) {
  if (!closed_ && !d.reasoning.empty()) {
    held_ += d.reasoning;
    size_t keep = 0;  // the longest tail that may be the start of "</think>"
    for (size_t n = std::min(held_.size(), kThinkClose.size() - 1); n > 0 && keep == 0; --n)
      if (std::string_view(held_).ends_with(kThinkClose.substr(0, n))) keep = n;
    out += escape_reasoning(std::string_view(held_).substr(0, held_.size() - keep));
    held_.erase(0, held_.size() - keep);
  }
  if (!closed_ && has_final()) {
    flush_reasoning(out);
    out += kThinkClose;
    closed_ = true;
  }
  if (closed_) out += d.answer;
}

void HarmonyCompletion::flush_reasoning(std::string& out) {
  out += held_;  // a proper prefix of "</think>": nothing to escape
  held_.clear();
}

HarmonyText harmony_completion(const std::vector<HarmonyPiece>& pieces) {
  HarmonyCompletion c;
  HarmonyText t;
  for (const HarmonyPiece& p : pieces) t.steps.push_back(c.feed(p));
  const std::string rest = c.finish();
  if (t.steps.empty())
    t.text = rest;
  else
    t.steps.back() += rest;
  for (const std::string& s : t.steps) t.text += s;
  t.has_final = c.has_final();
  return t;
}

}  // namespace fare::judge
