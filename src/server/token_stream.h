// Tokens of one or more generations (the choices of a request), handed from the engine's
// scheduling thread to the HTTP thread that streams them. The scheduler side only appends under
// a lock and returns, as a TokenCallback must.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "engine/engine.h"

namespace fare::server {

struct TokenEvent {
  int choice = 0;
  std::string piece;  // text completed by this step (may be empty: held for a stop string or a split character)
  GeneratedStep step;
};

class TokenStream {
 public:
  // The callback keeps the stream alive: a cancelled generation may still call it once.
  static TokenCallback callback(const std::shared_ptr<TokenStream>& stream, int choice);
  // Takes what has arrived, waiting up to `seconds` for something when nothing has.
  std::deque<TokenEvent> take(double seconds);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TokenEvent> events_;
};

}  // namespace fare::server
