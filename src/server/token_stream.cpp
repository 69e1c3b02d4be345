#include "server/token_stream.h"

namespace fare::server {

TokenCallback TokenStream::callback(const std::shared_ptr<TokenStream>& stream, int choice) {
  return [stream, choice](const std::string& piece, const GeneratedStep& step) {
    {
      std::lock_guard lock(stream->mu_);
      stream->events_.push_back({choice, piece, step});
    }
    stream->cv_.notify_one();
    return true;
  };
}

std::deque<TokenEvent> TokenStream::take(double seconds) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return !events_.empty(); });
  std::deque<TokenEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace fare::server
