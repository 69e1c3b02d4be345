// What a generation has said so far: decoded text, the stop-string search, and which part has
// been handed out (text that could still become part of a stop string is held back).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace fare {

class TextTracker {
 public:
  TextTracker(const Tokenizer& tok, const std::vector<std::string>& stop) : dec_(tok), stop_(stop) {
    for (const auto& s : stop_) holdback_ = std::max(holdback_, s.size() ? s.size() - 1 : 0);
  }

  // Adds a token; returns true when a stop string now ends the text.
  bool push(int32_t id) {
    const size_t before = text_.size();
    text_ += dec_.push(id);
    return find_stop(before);
  }
  bool flush() {
    const size_t before = text_.size();
    text_ += dec_.flush();
    return find_stop(before);
  }
  // Text that can no longer become part of a stop string.
  std::string take_ready(bool final) {
    const size_t limit = final ? text_.size() : (text_.size() > holdback_ ? text_.size() - holdback_ : 0);
    std::string out;
    if (limit > emitted_) out = text_.substr(emitted_, limit - emitted_);
    emitted_ = std::max(emitted_, limit);
    return out;
  }
  const std::string& text() const { return text_; }

 private:
  bool find_stop(size_t before) {
    size_t best = std::string::npos;
    for (const auto& s : stop_) {
      if (s.empty()) continue;
      const size_t from = before >= s.size() ? before - s.size() + 1 : 0;
      best = std::min(best, text_.find(s, from));
    }
    if (best == std::string::npos) return false;
    text_.resize(best);
    return true;
  }

  StreamDecoder dec_;
  std::vector<std::string> stop_;
  std::string text_;
  size_t holdback_ = 0;
  size_t emitted_ = 0;
};

}  // namespace fare
