// Whether the client of a request is still connected, for handlers that wait on a generation
// before they write anything: cpp-httplib 0.11 tells a handler nothing about its socket, so the
// socket is found by its addresses (it stays open, and so unambiguous, while the handler runs).
#pragma once

#include <string>

namespace fare::server {

class ClientWatch {
 public:
  // The connection from remote_addr:remote_port to local_port; when it cannot be found the
  // client is taken to be there for as long as the request runs.
  ClientWatch(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer has closed or reset the connection. Bytes already sent (a pipelined next
  // request) do not count as gone.
  bool gone() const;

 private:
  int fd_ = -1;
};

}  // namespace fare::server
