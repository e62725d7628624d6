#include "server/http_checks.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>

namespace specfuse::server {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

ApiError Error(int status, std::string message, std::string code = "") {
  ApiError e;
  e.http_status = status;
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

// Equal strings compare in time that depends only on the expected key's length.
bool ConstantTimeEquals(const std::string& expected, const std::string& given) {
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(expected[i]) ^ g;
  }
  return diff == 0;
}

// "Name[:port]", "[v6]:port" or a bare IPv6 address, as the lower-case host name
// without its port ("[::1]" for IPv6); "" when it is malformed.
std::string HostName(const std::string& value) {
  std::string s = Lower(Trim(value));
  if (std::count(s.begin(), s.end(), ':') > 1 && s.front() != '[') return "[" + s + "]";
  size_t name_end = s.find(':');
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close == std::string::npos) return "";
    name_end = close + 1;
  }
  const std::string name = s.substr(0, name_end);
  const std::string rest = name_end < s.size() ? s.substr(name_end) : "";
  if (!rest.empty() && (rest.front() != ':' || !AllDigits(rest.substr(1)))) return "";
  return name;
}

bool IsLoopback(const std::string& bound_host) {
  const std::string name = HostName(bound_host);
  return name == "localhost" || name == "[::1]" || name.rfind("127.", 0) == 0;
}

// The token of "Authorization: Bearer <token>" (the scheme in any case), or nullopt.
std::optional<std::string> BearerToken(const std::string& header) {
  const size_t space = header.find(' ');
  if (space == std::string::npos || Lower(header.substr(0, space)) != "bearer") return std::nullopt;
  const size_t start = header.find_first_not_of(' ', space);
  if (start == std::string::npos) return std::nullopt;
  return header.substr(start);
}

}  // namespace

std::optional<ApiError> CheckFraming(const httplib::Request& req) {
  const size_t lengths = req.get_header_value_count("Content-Length");
  const std::string first = req.get_header_value("Content-Length");
  for (size_t i = 0; i < lengths; ++i) {
    const std::string value = req.get_header_value("Content-Length", i);
    if (!AllDigits(value)) {
      return Error(400, "the Content-Length header must be a non-negative integer (it was '" +
                            value + "')");
    }
    if (value != first) return Error(400, "the request has several different Content-Length headers");
  }
  if (req.has_header("Transfer-Encoding")) {
    const std::string coding = req.get_header_value("Transfer-Encoding");
    if (lengths > 0) return Error(400, "send either Content-Length or Transfer-Encoding, not both");
    if (Lower(Trim(coding)) != "chunked") {
      return Error(501, "Transfer-Encoding '" + coding + "' is not supported; send the body with "
                        "Content-Length or 'Transfer-Encoding: chunked'");
    }
  }
  if (req.is_multipart_form_data()) {
    return Error(415, "multipart bodies are not accepted; send JSON with 'Content-Type: application/json'");
  }
  return std::nullopt;
}

bool ReadsBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

bool RoutedMethod(const std::string& method) {
  return ReadsBody(method) || method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool BodyLeftUnread(const httplib::Request& req) {
  const bool chunked = req.has_header("Transfer-Encoding");
  const bool sized = req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0";
  const bool read = ReadsBody(req.method) && (req.method != "DELETE" || req.has_header("Content-Length"));
  return (chunked || sized) && !read;
}

HostCheck::HostCheck(const std::string& bound_host, const std::vector<std::string>& allowed)
    : enabled_(IsLoopback(bound_host) || !allowed.empty()),
      names_{"localhost", "127.0.0.1", "[::1]", HostName(bound_host)} {
  for (const auto& name : allowed) names_.push_back(HostName(name));
}

std::optional<ApiError> HostCheck::Check(const httplib::Request& req) const {
  if (!enabled_ || !req.has_header("Host")) return std::nullopt;
  const std::string host = req.get_header_value("Host");
  const std::string name = HostName(host);
  if (!name.empty() && std::find(names_.begin(), names_.end(), name) != names_.end()) {
    return std::nullopt;
  }
  ApiError e = Error(403, "the Host header '" + host + "' is not allowed: this server answers "
                          "only requests for localhost, 127.0.0.1, [::1] or a name given with "
                          "--allowed-host (any port), so that web pages cannot reach it by "
                          "pointing their own name at this machine; if you reach it through a "
                          "proxy or under another name, start it with --allowed-host NAME",
                     "host_not_allowed");
  e.type = "permission_error";
  return e;
}

std::optional<ApiError> CheckApiKey(const httplib::Request& req, const std::string& api_key) {
  if (api_key.empty()) return std::nullopt;
  auto token = BearerToken(req.get_header_value("Authorization"));
  if (token && ConstantTimeEquals(api_key, *token)) return std::nullopt;
  return Error(401, "invalid or missing API key; send 'Authorization: Bearer <key>'", "invalid_api_key");
}

std::optional<ApiError> CheckJsonBody(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (Lower(Trim(type.substr(0, type.find(';')))) == "application/json") return std::nullopt;
  return Error(415, "send the body as JSON with 'Content-Type: application/json' (" +
                        (type.empty() ? std::string("the request had no Content-Type")
                                      : "it was '" + type + "'") +
                        ")");
}

BodyRead ReadBody(const httplib::ContentReader& reader, const httplib::Response& response,
                  size_t limit, std::string* body) {
  const size_t drain = limit > std::numeric_limits<size_t>::max() / 8 ? limit : limit * 8;
  size_t seen = 0;
  bool too_large = false;
  const bool read = reader([&](const char* data, size_t n) {
    seen += n;
    if (!too_large && seen <= limit) {
      body->append(data, n);
      return true;
    }
    too_large = true;
    body->clear();
    return seen <= drain;
  });
  if (too_large || response.status == 413) return BodyRead::kTooLarge;
  return read ? BodyRead::kComplete : BodyRead::kBroken;
}

ApiError BodyTooLarge(size_t limit) {
  return Error(413, "the request body is larger than the server's limit of " + std::to_string(limit) +
                        " bytes");
}

void RouteTable::Add(const std::string& method, const std::string& pattern) {
  routes_.emplace_back(std::regex(pattern), method);
}

std::string RouteTable::Allowed(const std::string& path) const {
  std::string out;
  for (const auto& [pattern, method] : routes_) {
    if (!std::regex_match(path, pattern)) continue;
    const std::string methods = method == "GET" ? "GET, HEAD" : method;
    if (out.find(methods) == std::string::npos) out += (out.empty() ? "" : ", ") + methods;
  }
  return out;
}

ApiError RouteTable::NotRouted(const httplib::Request& req) const {
  const std::string allowed = Allowed(req.path);
  if (allowed.empty()) return Error(404, "no such endpoint: '" + req.path + "'");
  return Error(405, "method " + req.method + " is not allowed on " + req.path + "; use " + allowed);
}

}  // namespace specfuse::server
