// The OpenAI-compatible HTTP server: /v1/chat/completions (with SSE streaming),
// /v1/completions, /v1/models, /health and /metrics over a loaded ensemble.
// Start() and Stop() may be called from different threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "server/model_registry.h"
#include "specfuse/ensemble_options.h"
#include "specfuse/status.h"

namespace specfuse::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0 = any free port
  std::string api_key;             // "" = no authentication
  int max_concurrent = 4;          // answers running at once
  int queue = 16;                  // answers waiting for a slot; more are refused (429)
  size_t max_body_bytes = 1 << 20; // larger request bodies are refused (413)
  // Bound to loopback, requests must name localhost, 127.0.0.1, [::1] or one of these in
  // their Host header (403 otherwise); given while bound elsewhere, they turn the check on.
  std::vector<std::string> allowed_hosts;
  // A connection's time to start its first request, and a request's to arrive whole
  // (headers and body); slower clients get 408 and their connection is closed.
  double read_timeout_s = 10;
  // Connections open at once (0: at least 64, and 16 more than max_concurrent + queue).
  // At the limit a new connection takes the place of one that has gone a second without
  // delivering a request, or is answered 503 with Retry-After; see server/connection.h.
  int max_connections = 0;
  // A request without a seed gets a fresh random one (OpenAI's behaviour); false: the
  // default options' seed, so that equal requests get equal answers.
  bool random_seed = true;
};

// kInvalidArgument when max_connections leaves no connection beyond every running and
// waiting answer (one is needed for /health). HttpServer::Bind checks it too.
Status CheckServerOptions(const ServerOptions& options);

class HttpServer {
 public:
  // defaults: the options of a request that sets none of its own.
  HttpServer(ServerOptions options, ModelRegistry models, EnsembleOptions defaults);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket. Fails with kUnavailable when the address is taken, with
  // kInvalidArgument when CheckServerOptions does.
  Status Bind();
  // The port bound (useful after port 0).
  int port() const;
  // Serves until Stop(); returns when every request thread has finished.
  Status Serve();
  // Stops accepting, cancels running and queued answers. Thread-safe; not signal-safe.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace specfuse::server
