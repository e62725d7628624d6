// HTTP-level checks of a request, before and after its body is read: the body's framing
// (Content-Length, Transfer-Encoding), the Host header (DNS-rebinding protection), the
// API key, the body's media type and size, and which methods each path allows.
#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <httplib.h>

#include "server/api_errors.h"

namespace specfuse::server {

// Refuses bodies that cannot be read safely: a Content-Length that is not one
// non-negative decimal number (400), Content-Length together with Transfer-Encoding
// (400), a transfer coding other than chunked (501), multipart bodies (415). Runs
// before the body is read; the connection cannot be reused after such a refusal.
std::optional<ApiError> CheckFraming(const httplib::Request& req);

// The methods whose body the server reads (through a content reader, within the limit).
bool ReadsBody(const std::string& method);
// GET, HEAD, OPTIONS and the methods above; httplib routes no others.
bool RoutedMethod(const std::string& method);
// Whether the request has a body that httplib will not read (a GET with a body, a chunked
// DELETE): what follows on its connection is not the next request.
bool BodyLeftUnread(const httplib::Request& req);

// Which Host headers the server answers. Bound to a loopback address, it answers only
// localhost, 127.0.0.1, [::1], its own address and the --allowed-host names, with any
// port: a web page that rebinds its DNS name to 127.0.0.1 is refused (403). Bound to any
// other address, every Host is answered unless allowed names were given.
class HostCheck {
 public:
  HostCheck(const std::string& bound_host, const std::vector<std::string>& allowed);
  // 403 when the request names a host that is not allowed; a request without Host passes.
  std::optional<ApiError> Check(const httplib::Request& req) const;

 private:
  bool enabled_ = false;
  std::vector<std::string> names_;  // lower case, without port
};

// 401 unless the request carries "Authorization: Bearer <api_key>" (the scheme in any
// case). An empty api_key lets every request through.
std::optional<ApiError> CheckApiKey(const httplib::Request& req, const std::string& api_key);

// 415 unless Content-Type is application/json (parameters such as charset allowed).
std::optional<ApiError> CheckJsonBody(const httplib::Request& req);

enum class BodyRead { kComplete, kTooLarge, kBroken };

// Reads the body through reader into *body, keeping at most limit bytes. The rest of a
// larger body is read and dropped (up to 8 times the limit), so that the client hears
// 413 rather than a reset and the connection stays in step. kBroken: the framing was
// broken, the client went away or the read timeout passed. response: httplib's, whose
// status tells a Content-Length over the limit (httplib skips such a body itself).
BodyRead ReadBody(const httplib::ContentReader& reader, const httplib::Response& response,
                  size_t limit, std::string* body);

// 413 naming the limit.
ApiError BodyTooLarge(size_t limit);

// The routes the server registered, to tell "no such path" (404) from "not with this
// method" (405).
class RouteTable {
 public:
  void Add(const std::string& method, const std::string& pattern);
  // The methods path allows ("GET, HEAD", "POST"), or "" when no route matches it.
  std::string Allowed(const std::string& path) const;
  // 405 (the caller sends Allowed() in an Allow header) or 404 for a request that no
  // handler took.
  ApiError NotRouted(const httplib::Request& req) const;

 private:
  std::vector<std::pair<std::regex, std::string>> routes_;  // pattern, method
};

}  // namespace specfuse::server
