// HttpEndpoint: JSON requests to one OpenAI-compatible server, each under a deadline,
// retried with backoff on connection errors, 5xx and 429, over pooled keep-alive
// connections. Every failure comes back as kUnavailable naming the member.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "specfuse/status.h"

namespace httplib {
class Client;
}

namespace specfuse::openai {

struct EndpointOptions {
  std::string url;      // scheme://host[:port][/prefix]
  std::string api_key;  // "" = no Authorization header
  std::string member;   // the member's name, for error messages
  double timeout_s = 60.0;
  int retries = 2;
};

// Thread-safe: each call borrows its own connection (httplib::Client is not safe for
// concurrent requests), so a round's requests go out in parallel.
class HttpEndpoint {
 public:
  // Fails with kInvalidArgument when the URL is not http(s)://host[:port][/path].
  static Result<std::unique_ptr<HttpEndpoint>> Create(EndpointOptions options);
  ~HttpEndpoint();

  // POSTs body to path (e.g. "/v1/completions") and parses the JSON answer. `what` names
  // the call in error messages ("drafting", "scoring").
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body,
                              const std::string& what);
  // GETs path and parses the JSON answer.
  Result<nlohmann::json> Get(const std::string& path, const std::string& what);

  const EndpointOptions& options() const { return options_; }

 private:
  explicit HttpEndpoint(EndpointOptions options);
  Result<nlohmann::json> Send(bool post, const std::string& path, const std::string& body,
                              const std::string& what);
  std::unique_ptr<httplib::Client> Borrow();
  void Return(std::unique_ptr<httplib::Client> client);

  EndpointOptions options_;
  std::string scheme_host_port_;
  std::string prefix_;  // path prefix before /v1, without a trailing '/'
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace specfuse::openai
