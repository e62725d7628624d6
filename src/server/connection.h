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
//   accepted, a kept-alive one its next request within the keep-alive timeout;
// - once a request has started, its head and body must arrive within the read timeout;
//   past it the request is answered 408 (or dropped) and the connection closed;
// - a request's head (request line and headers) may have at most max_header_lines header
//   lines and max_header_bytes bytes; past either the read fails (kHeadTooLarge: the
//   error handler answers 431, a request line alone over the limit is answered 414 here).
//
// Connections are bounded. httplib accepts on one thread and hands each new connection
// to its task queue; this server's queue runs that hand-over at once, on the accepting
// thread, where the connection is admitted or refused without taking a worker:
//
// - at most max_connections are open, and the pool has as many workers, so an admitted
//   connection never waits for one;
// - at the limit, a new connection takes the place of the one that has been idle longest:
//   open for at least evict_after without having delivered a whole request (new and
//   silent, sending a head or body, or kept alive between requests). That one is shut
//   down without an answer. A connection whose request is being answered is never closed
//   for another;
// - when none qualifies, the new connection is answered 503 with Retry-After and closed.
//
// Handlers can also ask for the connection to be closed after their response.
//
// set_read_timeout sets that deadline, set_keep_alive_timeout and
// set_keep_alive_max_count the rest, set_write_timeout each write's own limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

namespace specfuse::server {

// Why reading the current request stopped short.
enum class ReadStop {
  kNone,          // it did not (any failure was httplib's own judgement of the bytes)
  kDeadline,      // the read timeout passed
  kClosed,        // the client closed the connection or it failed
  kHeadTooLarge,  // the head passed max_header_lines or max_header_bytes
};

struct ConnectionLimits {
  size_t max_connections = 64;         // open at once; also the number of workers
  size_t max_header_lines = 100;       // header lines in a request's head
  size_t max_header_bytes = 64 << 10;  // a head's bytes, request line and CRLFs included
  // How long a connection must have gone without delivering a request before a new
  // connection at the limit may take its place.
  std::chrono::milliseconds evict_after{1000};
};

class ConnectionTable;
class ConnectionPool;

class ConnectionServer : public httplib::Server {
 public:
  explicit ConnectionServer(ConnectionLimits limits);
  ~ConnectionServer() override;

  const ConnectionLimits& limits() const { return limits_; }
  // httplib listens with a backlog of 5: a burst of new connections faster than the
  // accepting thread takes them has its handshakes dropped beyond that, and those clients
  // retry only after a second. Listening again sets another backlog (Linux allows it);
  // call after binding. False when the socket is not listening.
  bool SetListenBacklog(int backlog);
  // The JSON body of a response that this layer sends itself (503 to a connection refused
  // at the limit, 414 to a request line over max_header_bytes). Called once for each
  // such response, the 503s on the accepting thread, so it may count them.
  void set_own_error_body(std::function<std::string(int status)> body);

  // For handlers and the error handler: how reading the request that this thread is
  // serving ended. kNone outside a request.
  static ReadStop CurrentReadStop();
  // For the logger: whether any of the response to this thread's request reached the
  // socket (not when the client was gone, or its connection was closed for another).
  static bool ResponseSent();
  // Closes this thread's connection once the current response is sent (its request was
  // not read to its end, so what follows on the connection is not a request).
  static void CloseAfterThisRequest();
  // This thread's request has been read whole: until its response is sent, its connection
  // is not one that a new connection may take the place of.
  static void RequestRead();

 private:
  bool process_and_close_socket(socket_t sock) override;
  void Serve(socket_t sock, std::chrono::steady_clock::time_point accepted);
  void Refuse(socket_t sock) const;

  const ConnectionLimits limits_;
  std::unique_ptr<ConnectionTable> table_;
  ConnectionPool* pool_ = nullptr;  // httplib owns it while it listens
  std::function<std::string(int)> own_error_body_;
};

}  // namespace specfuse::server
