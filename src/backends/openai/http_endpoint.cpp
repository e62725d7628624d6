#include "backends/openai/http_endpoint.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <thread>

namespace specfuse::openai {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsLeft(Clock::time_point deadline) {
  return std::chrono::duration<double>(deadline - Clock::now()).count();
}

void SetTimeouts(httplib::Client* client, double seconds) {
  seconds = std::max(seconds, 0.001);
  auto sec = static_cast<time_t>(seconds);
  auto usec = static_cast<time_t>((seconds - static_cast<double>(sec)) * 1e6);
  // Connecting gets at most 5 s of the deadline: a host that does not answer the SYN
  // is down, and the retries may still find it up.
  double connect = std::min(seconds, 5.0);
  auto csec = static_cast<time_t>(connect);
  client->set_connection_timeout(csec, static_cast<time_t>((connect - static_cast<double>(csec)) * 1e6));
  client->set_read_timeout(sec, usec);
  client->set_write_timeout(sec, usec);
}

// The start of a body, printable, for error messages.
std::string Excerpt(const std::string& body) {
  std::string out = body.substr(0, 120);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > out.size()) out += "...";
  return out.empty() ? "(empty)" : out;
}

// The message of an OpenAI-style error body {"error": {"message": ...}}, or an excerpt.
std::string ErrorBody(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end() && e->is_object() && e->contains("message") && (*e)["message"].is_string()) {
      return (*e)["message"].get<std::string>();
    }
    if (e != j.end() && e->is_string()) return e->get<std::string>();
    auto d = j.find("detail");  // FastAPI (vLLM) validation errors
    if (d != j.end()) return d->dump();
  }
  return Excerpt(body);
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g s", s);
  return buf;
}

}  // namespace

HttpEndpoint::HttpEndpoint(EndpointOptions options) : options_(std::move(options)) {}

HttpEndpoint::~HttpEndpoint() = default;

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Create(EndpointOptions options) {
  static const std::regex kUrl(R"(^(https?)://([^/?#]+)(/[^?#]*)?$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(options.url, m, kUrl)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + options.member + "': url '" + options.url +
                             "' is not of the form http://host:port[/path]");
  }
  std::string scheme = m[1].str();
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme == "https") {
    // The Debian cpp-httplib is shared with the server target, which is built without
    // OpenSSL; mixing the two builds in one binary would break its ABI.
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + options.member + "': https is not supported yet (url '" +
                             options.url + "'); reach the server over plain http, e.g. through an "
                             "SSH tunnel or a TLS-terminating proxy on the local host");
  }
  if (options.timeout_s <= 0 || !std::isfinite(options.timeout_s)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + options.member + "': timeout_s must be greater than 0");
  }
  if (options.retries < 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + options.member + "': retries must be 0 or more");
  }
  std::unique_ptr<HttpEndpoint> e(new HttpEndpoint(std::move(options)));
  e->scheme_host_port_ = scheme + "://" + m[2].str();
  std::string prefix = m[3].str();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (prefix.size() >= 3 && prefix.compare(prefix.size() - 3, 3, "/v1") == 0) {
    prefix.resize(prefix.size() - 3);
  }
  e->prefix_ = prefix;
  return e;
}

std::unique_ptr<httplib::Client> HttpEndpoint::Borrow() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<httplib::Client>(scheme_host_port_);
  c->set_keep_alive(true);
  if (!options_.api_key.empty()) c->set_bearer_token_auth(options_.api_key);
  return c;
}

void HttpEndpoint::Return(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Enough for one round's parallel scoring requests; more would only hold sockets.
  if (idle_.size() < 16) idle_.push_back(std::move(client));
}

Result<nlohmann::json> HttpEndpoint::Post(const std::string& path, const nlohmann::json& body,
                                          const std::string& what) {
  return Send(true, path, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), what);
}

Result<nlohmann::json> HttpEndpoint::Get(const std::string& path, const std::string& what) {
  return Send(false, path, "", what);
}

Result<nlohmann::json> HttpEndpoint::Send(bool post, const std::string& path, const std::string& body,
                                          const std::string& what) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options_.timeout_s));
  const std::string target = prefix_ + path;
  std::string error;
  int attempts = 0;
  for (int attempt = 0; attempt <= options_.retries; ++attempt) {
    double left = SecondsLeft(deadline);
    if (left <= 0) break;
    ++attempts;
    auto client = Borrow();
    SetTimeouts(client.get(), left);
    auto t0 = Clock::now();
    httplib::Result res = post ? client->Post(target, body, "application/json") : client->Get(target);
    bool retry = false;
    if (!res) {
      // The connection may be broken: do not pool it again.
      httplib::Error e = res.error();
      double took = std::chrono::duration<double>(Clock::now() - t0).count();
      if ((e == httplib::Error::Read || e == httplib::Error::Write ||
           e == httplib::Error::ConnectionTimeout) && took >= left - 0.05) {
        error = "no answer within the deadline of " + FormatSeconds(options_.timeout_s) +
                " (timeout_s)";
      } else if (e == httplib::Error::Connection) {
        error = "cannot connect (connection refused or host unreachable)";
      } else {
        error = "HTTP transport error: " + httplib::to_string(e);
      }
      retry = true;
    } else {
      int status = res->status;
      std::string response = std::move(res->body);
      Return(std::move(client));
      if (status >= 200 && status < 300) {
        nlohmann::json j = nlohmann::json::parse(response, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          // A server that answers garbage will answer garbage again: no retry.
          return Status::Error(ErrorCode::kUnavailable,
                               "member '" + options_.member + "' (" + options_.url + "): " + what +
                                   " got a malformed answer, not a JSON object: " + Excerpt(response));
        }
        return j;
      }
      error = "HTTP " + std::to_string(status) + ": " + ErrorBody(response);
      retry = status >= 500 || status == 429;
    }
    if (!retry) break;
    if (attempt < options_.retries) {
      double backoff = std::min(0.1 * std::pow(2.0, attempt), 2.0);
      backoff = std::min(backoff, SecondsLeft(deadline));
      if (backoff > 0) std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    }
  }
  if (error.empty()) {
    error = "no answer within the deadline of " + FormatSeconds(options_.timeout_s) + " (timeout_s)";
  }
  return Status::Error(ErrorCode::kUnavailable,
                       "member '" + options_.member + "' (" + options_.url + "): " + what +
                           " failed after " + std::to_string(attempts) + " attempt(s): " + error);
}

}  // namespace specfuse::openai
