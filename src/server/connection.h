// The HTTP server's connection handling, on top of cpp-httplib 0.11.4.
//
// httplib gives each connection a worker thread until the connection closes, and its
// read timeout bounds each read on its own: a client that sends its headers one byte at
// a time, or opens connections and sends nothing, holds workers for as long as it likes,
// and a few dozen such connections lock everyone out, /health included. This server
// processes its connections itself (process_and_close_socket is httplib's virtual hook
// for that; its SSLServer uses it the same way) and gives every request a deadline:
//
// - a new connection must start its first request within the read timeout of being
//   accepted (time spent waiting for a free worker counts), a kept-alive one its next
//   request within the keep-alive timeout;
// - once a request has started, its head and body must arrive within the read timeout;
//   past it the request is answered 408 (or dropped) and the connection closed.
//
// Handlers can also ask for the connection to be closed after their response.
//
// set_read_timeout sets that deadline, set_keep_alive_timeout and
// set_keep_alive_max_count the rest, set_write_timeout each write's own limit.
#pragma once

#include <cstddef>

#include <httplib.h>

namespace specfuse::server {

// Why reading the current request stopped short.
enum class ReadStop {
  kNone,      // it did not (any failure was httplib's own judgement of the bytes)
  kDeadline,  // the read timeout passed
  kClosed,    // the client closed the connection or it failed
};

class ConnectionServer : public httplib::Server {
 public:
  // threads: the worker pool; each serves one connection at a time.
  explicit ConnectionServer(size_t threads);

  // For handlers and the error handler: how reading the request that this thread is
  // serving ended. kNone outside a request.
  static ReadStop CurrentReadStop();
  // Closes this thread's connection once the current response is sent (its request was
  // not read to its end, so what follows on the connection is not a request).
  static void CloseAfterThisRequest();

 private:
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace specfuse::server
