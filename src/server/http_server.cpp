#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/admission.h"
#include "server/api_errors.h"
#include "server/chat_completions.h"
#include "server/connection.h"
#include "server/generation.h"
#include "server/http_checks.h"
#include "server/metrics.h"
#include "server/playground.h"
#include "server/request_options.h"
#include "server/sse.h"
#include "server/tool_calls.h"

namespace specfuse::server {

namespace {

using Clock = std::chrono::steady_clock;
using Handled = httplib::Server::HandlerResponse;
using nlohmann::json;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void SendError(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(e.ToJson(), "application/json");
}

// The answer to a request that cannot be followed by another on its connection.
void SendErrorAndClose(httplib::Response& res, const ApiError& e) {
  ConnectionServer::CloseAfterThisRequest();
  res.set_header("Connection", "close");
  SendError(res, e);
}

ApiError PlainError(int status, std::string message) {
  ApiError e;
  e.http_status = status;
  e.message = std::move(message);
  e.type = status >= 500 ? "server_error" : "invalid_request_error";
  return e;
}

std::string StatusText(int status) {
  switch (status) {
    case 414: return "the request URI is longer than 8192 bytes";
    case 416: return "the Range header is malformed";
    default: return "the request failed";
  }
}

// Whether httplib parsed the request line (method, target, version) before it failed.
bool RequestLineRead(const httplib::Request& req) {
  static const char* const kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  return (req.version == "HTTP/1.1" || req.version == "HTTP/1.0") &&
         std::count(req.target.begin(), req.target.end(), '?') <= 1 &&
         std::find(std::begin(kMethods), std::end(kMethods), req.method) != std::end(kMethods);
}

// Connection attempts the kernel holds until the accepting thread takes them (nginx's
// default; httplib's own is 5).
constexpr int kListenBacklog = 511;

// The connection limit: --max-connections, or room for every running and waiting answer
// and 16 other connections, at least 64 in all.
ConnectionLimits Limits(const ServerOptions& o) {
  ConnectionLimits limits;
  const int answers = o.max_concurrent + o.queue;
  limits.max_connections = static_cast<size_t>(o.max_connections > 0 ? o.max_connections
                                                                      : std::max(64, answers + 16));
  return limits;
}

// A grammar (response_format's or the tools') needs every drafter of the model asked for
// to draft under it; remote members cannot (docs/SERVER.md), so such a request is refused
// by name.
// The first member of model that drafts but cannot draft under a grammar, or null.
const Member* UnconstrainedDrafter(const ServedModel& model) {
  for (const Member& m : model.members) {
    if (m.role != MemberRole::kVerifier && !m.model->constrains_drafts()) return &m;
  }
  return nullptr;
}

std::optional<ApiError> CheckDraftersConstrain(const GenerationRequest& request,
                                               const ServedModel& model) {
  if (request.options.sampling.grammar.empty()) return std::nullopt;
  const std::string field = request.tools.offered() ? "tools" : "response_format";
  if (const Member* m = UnconstrainedDrafter(model)) {
    ApiError e = BadRequest("'" + field + "' is not supported by '" + model.id + "': its member '" +
                                m->model->name() + "' drafts on a remote server, which cannot resume "
                                "a grammar half-way through an answer that other members wrote; "
                                "make remote members verifiers (role = \"verifier\"), ask a local "
                                "member alone, or remove " + field,
                            field);
    e.code = "unsupported_parameter";
    return e;
  }
  return std::nullopt;
}

}  // namespace

Status CheckServerOptions(const ServerOptions& o) {
  const int answers = o.max_concurrent + o.queue;
  if (o.max_connections == 0 || o.max_connections > answers) return Status::Ok();
  return Status::Error(ErrorCode::kInvalidArgument,
                       "--max-connections " + std::to_string(o.max_connections) +
                           " must be more than --max-concurrent + --queue (" + std::to_string(answers) +
                           "): every running and waiting answer holds a connection, and /health "
                           "needs one more");
}

struct HttpServer::Impl {
  Impl(ServerOptions o, ModelRegistry m, EnsembleOptions d)
      : options(std::move(o)),
        models(std::move(m)),
        defaults(std::move(d)),
        admission(options.max_concurrent, options.queue, &metrics.queue_depth),
        hosts(options.host, options.allowed_hosts),
        http(Limits(options)) {}

  void Configure();
  void Routes();
  void Get(const std::string& pattern, httplib::Server::Handler handler);
  void PostJson(const std::string& pattern, Endpoint endpoint);
  Handled PreRoute(const httplib::Request& req, httplib::Response& res);
  Handled OnError(const httplib::Request& req, httplib::Response& res);
  std::optional<ApiError> Guard(const httplib::Request& req) const;
  ApiError NotRouted(const httplib::Request& req, httplib::Response& res) const;
  ApiError HeadFailure(const httplib::Request& req) const;
  ApiError Timeout() const;
  ApiError HeadTooLarge() const;
  ApiError OwnError(int status) const;
  void OnBody(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader& reader, std::optional<Endpoint> endpoint);
  std::optional<ApiError> ReadRequestBody(const httplib::ContentReader& reader,
                                          httplib::Response& res, std::string* body) const;
  json ModelObject(const ServedModel& m) const;
  void Generate(const std::string& body, httplib::Response& res, Endpoint endpoint);
  std::optional<ApiError> Prepare(const std::string& body, Endpoint endpoint,
                                  GenerationRequest* request, const ServedModel** model) const;
  ApiError Refusal(Admission::Outcome outcome) const;
  ApiError ModelNotFound(const std::string& id, const std::string& param) const;
  void ScorePrompt(const GenerationRequest& request, const ServedModel& model, httplib::Response& res);
  void Answer(const GenerationRequest& request, const ServedModel& model, Endpoint endpoint,
              Clock::time_point t0, httplib::Response& res);
  Result<specfuse::Answer> AnswerOnce(const GenerationRequest& request, const ServedModel& model,
                                      Endpoint endpoint, int k, Clock::time_point t0);
  Result<ResponseChoice> Choice(const GenerationRequest& request, const ServedModel& model,
                                const specfuse::Answer& answer) const;
  void Stream(const GenerationRequest& request, const ServedModel& model, Endpoint endpoint,
              Clock::time_point t0, std::unique_ptr<AdmissionSlot> slot, httplib::Response& res);

  ServerOptions options;
  ModelRegistry models;
  EnsembleOptions defaults;
  Metrics metrics;
  Admission admission;
  HostCheck hosts;
  RouteTable routes;
  std::atomic<bool> stopping{false};
  int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  int bound_port = 0;
  std::atomic<bool> serve_returned{false};
  ConnectionServer http;
};

void HttpServer::Impl::Configure() {
  http.set_payload_max_length(options.max_body_bytes);
  const double timeout = std::max(options.read_timeout_s, 0.001);
  const double whole = std::floor(timeout);
  http.set_read_timeout(static_cast<time_t>(whole), static_cast<time_t>((timeout - whole) * 1e6));
  // An idle kept-alive connection holds a worker too: at most 5 s, less with a shorter
  // read timeout.
  http.set_keep_alive_timeout(std::clamp<time_t>(static_cast<time_t>(whole), 1, 5));
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return PreRoute(req, res);
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return OnError(req, res); }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    ApiError e = PlainError(500, "internal error");
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      e.message = std::string("internal error: ") + ex.what();
    } catch (...) {
    }
    SendError(res, e);
  });
  // Every response sent is counted, those to requests that httplib could not parse and
  // those that the connection layer sends itself (503 at the connection limit) too.
  http.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    if (ConnectionServer::ResponseSent()) metrics.CountRequest(res.status);
  });
  http.set_own_error_body([this](int status) {
    metrics.CountRequest(status);
    return OwnError(status).ToJson();
  });
}

void HttpServer::Impl::Get(const std::string& pattern, httplib::Server::Handler handler) {
  routes.Add("GET", pattern);
  http.Get(pattern, std::move(handler));
}

void HttpServer::Impl::PostJson(const std::string& pattern, Endpoint endpoint) {
  routes.Add("POST", pattern);
  http.Post(pattern, [this, endpoint](const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& reader) {
    OnBody(req, res, reader, endpoint);
  });
}

void HttpServer::Impl::Routes() {
  Configure();
  for (const std::string& path : RegisterPlayground(http)) routes.Add("GET", path);
  Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(models.all().front().members), "text/plain; version=0.0.4");
  });
  Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    for (const auto& m : models.all()) data.push_back(ModelObject(m));
    res.set_content(Dump({{"object", "list"}, {"data", data}}), "application/json");
  });
  Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    const ServedModel* m = models.Find(id);
    if (m == nullptr) return SendError(res, ModelNotFound(id, "model"));
    res.set_content(Dump(ModelObject(*m)), "application/json");
  });
  PostJson("/v1/chat/completions", Endpoint::kChat);
  PostJson("/v1/completions", Endpoint::kCompletion);
  // Any other request with a body: its body is read within the limit, then 404 or 405.
  auto other = [this](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader& reader) { OnBody(req, res, reader, std::nullopt); };
  http.Post(".*", other);
  http.Put(".*", other);
  http.Patch(".*", other);
  http.Delete(".*", other);
}

json HttpServer::Impl::ModelObject(const ServedModel& m) const {
  return {{"id", m.id}, {"object", "model"}, {"created", started}, {"owned_by", "specfuse"}};
}

// Before httplib reads a body: framing it cannot read safely is refused at once. A
// request with a body is checked once the body is read (OnBody), so that its connection
// stays in step; any other is checked here.
Handled HttpServer::Impl::PreRoute(const httplib::Request& req, httplib::Response& res) {
  if (auto problem = CheckFraming(req)) {
    SendErrorAndClose(res, *problem);
    return Handled::Handled;
  }
  if (BodyLeftUnread(req)) ConnectionServer::CloseAfterThisRequest();
  if (ReadsBody(req.method)) return Handled::Unhandled;
  ConnectionServer::RequestRead();
  std::optional<ApiError> problem = Guard(req);
  if (!problem && !RoutedMethod(req.method)) problem = NotRouted(req, res);
  if (!problem) return Handled::Unhandled;
  SendError(res, *problem);
  return Handled::Handled;
}

std::optional<ApiError> HttpServer::Impl::Guard(const httplib::Request& req) const {
  if (auto problem = hosts.Check(req)) return problem;
  if (req.path.rfind("/v1/", 0) == 0) return CheckApiKey(req, options.api_key);
  return std::nullopt;
}

ApiError HttpServer::Impl::NotRouted(const httplib::Request& req, httplib::Response& res) const {
  ApiError e = routes.NotRouted(req);
  if (e.http_status == 405) res.set_header("Allow", routes.Allowed(req.path));
  return e;
}

// Statuses httplib chose without a body: an unrouted request, one whose head it could not
// read, a bad Range header.
Handled HttpServer::Impl::OnError(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty() || res.content_length_ > 0) return Handled::Unhandled;
  if (res.status == 404) {
    SendError(res, NotRouted(req, res));
  } else if (res.status == 400 && !req.has_header("REMOTE_ADDR")) {
    SendErrorAndClose(res, HeadFailure(req));  // httplib sets REMOTE_ADDR once the head is read
  } else {
    SendError(res, PlainError(res.status, StatusText(res.status)));
  }
  return Handled::Handled;
}

ApiError HttpServer::Impl::HeadFailure(const httplib::Request& req) const {
  switch (ConnectionServer::CurrentReadStop()) {
    case ReadStop::kDeadline: return Timeout();
    case ReadStop::kClosed: return BadRequest("the request ended before its headers did");
    case ReadStop::kHeadTooLarge: return HeadTooLarge();
    case ReadStop::kNone: break;
  }
  // httplib refuses a header line over CPPHTTPLIB_HEADER_MAX_LENGTH (8192 in 0.11.4).
  if (RequestLineRead(req)) {
    return PlainError(431, "a request header line is longer than 8192 bytes; send shorter headers");
  }
  return BadRequest("the request line is malformed; expected 'METHOD /path HTTP/1.1'");
}

ApiError HttpServer::Impl::Timeout() const {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%g", options.read_timeout_s);
  return PlainError(408, std::string("the request did not arrive within the server's read timeout of ") +
                             seconds + " s (--read-timeout)");
}

ApiError HttpServer::Impl::HeadTooLarge() const {
  const ConnectionLimits& l = http.limits();
  return PlainError(431, "the request's headers are over the server's limits of " +
                             std::to_string(l.max_header_lines) + " header lines and " +
                             std::to_string(l.max_header_bytes) + " bytes in all; send fewer headers");
}

// What the connection layer answers itself: 503 to a connection over the limit, 414 to a
// request line longer than a whole head may be.
ApiError HttpServer::Impl::OwnError(int status) const {
  const ConnectionLimits& l = http.limits();
  if (status == 414) {
    return PlainError(414, "the request line is longer than the server's limit of " +
                               std::to_string(l.max_header_bytes) + " bytes for a request's head");
  }
  ApiError e = PlainError(503, "the server has its limit of " + std::to_string(l.max_connections) +
                                   " connections open (--max-connections), none idle long enough "
                                   "to be closed for this one; retry after a second");
  e.code = "too_many_connections";
  return e;
}

// A request with a body. Its body is read first (within the limit), whatever follows.
void HttpServer::Impl::OnBody(const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& reader, std::optional<Endpoint> endpoint) {
  std::string body;
  if (auto problem = ReadRequestBody(reader, res, &body)) return SendErrorAndClose(res, *problem);
  ConnectionServer::RequestRead();
  std::optional<ApiError> problem = Guard(req);
  if (!problem && !endpoint) problem = NotRouted(req, res);
  if (!problem) problem = CheckJsonBody(req);
  if (problem) return SendError(res, *problem);
  Generate(body, res, *endpoint);
}

std::optional<ApiError> HttpServer::Impl::ReadRequestBody(const httplib::ContentReader& reader,
                                                          httplib::Response& res,
                                                          std::string* body) const {
  switch (ReadBody(reader, res, options.max_body_bytes, body)) {
    case BodyRead::kComplete: return std::nullopt;
    case BodyRead::kTooLarge: return BodyTooLarge(options.max_body_bytes);
    case BodyRead::kBroken: break;
  }
  if (ConnectionServer::CurrentReadStop() == ReadStop::kDeadline) return Timeout();
  return BadRequest("the request body could not be read: it ended early or its chunked encoding is broken");
}

std::optional<ApiError> HttpServer::Impl::Prepare(const std::string& body, Endpoint endpoint,
                                                 GenerationRequest* request,
                                                 const ServedModel** model) const {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::exception& e) {
    return BadRequest(std::string("the body is not valid JSON: ") + e.what());
  }
  auto problem = endpoint == Endpoint::kChat ? ParseChatRequest(parsed, defaults, request)
                                             : ParseCompletionRequest(parsed, defaults, request);
  if (problem) return problem;
  *model = models.Find(request->model);
  if (*model == nullptr) return ModelNotFound(request->model, "model");
  if (auto problem = CheckDraftersConstrain(*request, **model)) return problem;
  // A text answer after tool calls is kept from looking like one where every drafter can
  // be (remote drafters cannot: their answer is left free).
  if (request->tools.text_only && request->options.sampling.grammar.empty() &&
      !UnconstrainedDrafter(**model)) {
    request->options.sampling.grammar = TextGrammar();
  }
  if ((request->logprobs >= 0 || request->score_only) && (*model)->members.size() != 1) {
    return BadRequest("'logprobs' and scoring are available for single models; "
                      "name one member as the model (" + models.Names() + ")",
                      "logprobs");
  }
  if (!request->seeded && options.random_seed) {
    thread_local std::mt19937_64 rng(std::random_device{}());
    request->options.sampling.seed = rng();
  }
  return std::nullopt;
}

ApiError HttpServer::Impl::Refusal(Admission::Outcome outcome) const {
  if (outcome == Admission::Outcome::kShuttingDown) {
    return FromStatus(Status::Error(ErrorCode::kUnavailable, "the server is shutting down"));
  }
  ApiError e;
  e.http_status = 429;
  e.message = "the server is busy: " + std::to_string(options.max_concurrent) +
              " answers are running and " + std::to_string(options.queue) + " waiting; retry later";
  e.type = "rate_limit_error";
  e.code = "rate_limit_exceeded";
  return e;
}

ApiError HttpServer::Impl::ModelNotFound(const std::string& id, const std::string& param) const {
  ApiError e;
  e.http_status = 404;
  e.message = "the model '" + id + "' does not exist; this server offers: " + models.Names();
  e.param = param;
  e.code = "model_not_found";
  return e;
}

// Every check that can refuse the request runs before it takes an admission slot; the
// slot is released when `ticket` (or the stream that it moves into) goes away.
void HttpServer::Impl::Generate(const std::string& body, httplib::Response& res,
                                Endpoint endpoint) {
  const auto t0 = Clock::now();
  GenerationRequest request;
  const ServedModel* model = nullptr;
  if (auto problem = Prepare(body, endpoint, &request, &model)) return SendError(res, *problem);
  Admission::Ticket ticket = admission.Acquire();
  if (!ticket.slot) {
    if (ticket.outcome == Admission::Outcome::kQueueFull) res.set_header("Retry-After", "1");
    return SendError(res, Refusal(ticket.outcome));
  }
  if (request.score_only) return ScorePrompt(request, *model, res);
  if (request.stream) return Stream(request, *model, endpoint, t0, std::move(ticket.slot), res);
  Answer(request, *model, endpoint, t0, res);
}

Result<specfuse::Answer> HttpServer::Impl::AnswerOnce(const GenerationRequest& request,
                                                      const ServedModel& model, Endpoint endpoint,
                                                      int k, Clock::time_point t0) {
  EnsembleOptions options = request.options;
  options.sampling.seed = ChoiceSeed(options.sampling.seed, k);
  GaugeHold holding(&metrics.active_sequences);
  Conversation conversation(model.members, options);
  bool first = k == 0;
  auto on_segment = [&](const std::string&, const RoundTrace&) {
    if (first) metrics.ObserveFirstToken(SecondsSince(t0));
    first = false;
    return !stopping.load();
  };
  return endpoint == Endpoint::kChat ? conversation.Reply(request.messages, on_segment)
                                     : conversation.Complete(request.prompt, on_segment);
}

Result<ResponseChoice> HttpServer::Impl::Choice(const GenerationRequest& request,
                                                const ServedModel& model,
                                                const specfuse::Answer& answer) const {
  ResponseChoice choice;
  choice.text = request.echo ? request.prompt + answer.text : answer.text;
  choice.finish_reason = FinishReason(answer.summary);
  if (request.tools.offered()) {
    choice.tool_calls = ReadToolCalls(answer.text);
    if (!choice.tool_calls.is_null()) {
      choice.text.clear();
      choice.finish_reason = "tool_calls";
    }
  }
  if (request.logprobs >= 0) {
    // The answer's tokens as the model reads them after the prompt (raw, temperature 1).
    auto scored = model.members[0].model->ScoreText(request.prompt + answer.text, request.logprobs);
    if (!scored.ok()) return scored.status();
    choice.logprobs = CompletionLogprobs(*scored, request.echo ? 0 : request.prompt.size());
  }
  return choice;
}

// The request's n answers, one after another in its one admission slot.
void HttpServer::Impl::Answer(const GenerationRequest& request, const ServedModel& model,
                              Endpoint endpoint, Clock::time_point t0, httplib::Response& res) {
  std::vector<ResponseChoice> choices;
  std::vector<AnswerSummary> summaries;
  std::optional<specfuse::Answer> traced;
  for (int k = 0; k < request.n; ++k) {
    Result<specfuse::Answer> answer = AnswerOnce(request, model, endpoint, k, t0);
    if (!answer.ok()) return SendError(res, FromStatus(answer.status()));
    metrics.RecordAnswer(answer->summary);
    Result<ResponseChoice> choice = Choice(request, model, *answer);
    if (!choice.ok()) return SendError(res, FromStatus(choice.status()));
    choices.push_back(std::move(choice).value());
    summaries.push_back(answer->summary);
    if (request.trace) traced = std::move(answer).value();
  }
  metrics.ObserveLatency(SecondsSince(t0));
  json response = FullResponse(NewResponseHeader(endpoint, model.id), choices, Usage(summaries),
                               traced ? &*traced : nullptr);
  res.set_content(Dump(response), "application/json");
}

void HttpServer::Impl::ScorePrompt(const GenerationRequest& request, const ServedModel& model,
                                   httplib::Response& res) {
  Result<TextScore> scored = Status::Error(ErrorCode::kInternal, "not scored");
  {
    GaugeHold holding(&metrics.active_sequences);
    scored = model.members[0].model->ScoreText(request.prompt, std::max(request.logprobs, 0));
  }
  if (!scored.ok()) return SendError(res, FromStatus(scored.status()));
  AnswerSummary summary;
  summary.finish_reason = "length";
  summary.prompt_tokens = static_cast<int>(scored->tokens.size());
  ResponseChoice choice;
  choice.text = request.prompt;
  choice.finish_reason = "length";
  if (request.logprobs >= 0) choice.logprobs = CompletionLogprobs(*scored, 0);
  json response = FullResponse(NewResponseHeader(Endpoint::kCompletion, model.id), {choice},
                               Usage(summary), nullptr);
  res.set_content(Dump(response), "application/json");
}

namespace {

// The chunks that end a streamed answer: its tool calls, or the text held back in case it
// was one; the finish reason; the usage when asked for.
std::vector<json> EndChunks(const ResponseHeader& header, const specfuse::Answer& answer,
                            const ToolRequest& tools, HeldToolCall* held, bool trace,
                            bool include_usage) {
  const json calls = tools.offered() ? ReadToolCalls(answer.text) : json(nullptr);
  std::vector<json> chunks;
  if (!calls.is_null()) {
    chunks = ToolCallChunks(header, calls);
  } else if (std::string rest = held->Rest(); !rest.empty()) {
    chunks.push_back(SegmentChunk(header, rest, ""));
  }
  const std::string finish = calls.is_null() ? FinishReason(answer.summary) : "tool_calls";
  chunks.push_back(FinalChunk(header, answer.summary, finish, trace));
  if (include_usage) chunks.push_back(UsageChunk(header, answer.summary));
  return chunks;
}

// What a stream's writer and its releaser share. The generation is declared last, so it
// is cancelled and joined (freeing its sequences) before the admission slot is released.
struct StreamState {
  std::unique_ptr<AdmissionSlot> slot;
  std::unique_ptr<Generation> generation;
  std::optional<Generation::Event> first;  // already taken while choosing the status
};

}  // namespace

void HttpServer::Impl::Stream(const GenerationRequest& request, const ServedModel& model,
                              Endpoint endpoint, Clock::time_point t0,
                              std::unique_ptr<AdmissionSlot> slot, httplib::Response& res) {
  auto state = std::make_shared<StreamState>();
  state->slot = std::move(slot);
  state->generation = std::make_unique<Generation>(model.members, request.options, request.messages,
                                                   request.prompt,
                                                   &metrics, &stopping);
  // Wait for the first segment before answering, so that a request that cannot start
  // (a prompt longer than the context) gets its proper HTTP status rather than a 200.
  Generation::Event event;
  Generation::Next next;
  while ((next = state->generation->Wait(&event, std::chrono::milliseconds(250))) ==
         Generation::Next::kTimeout) {
  }
  if (next == Generation::Next::kDone && !state->generation->result().ok()) {
    return SendError(res, FromStatus(state->generation->result().status()));
  }
  if (next == Generation::Next::kEvent) {
    metrics.ObserveFirstToken(SecondsSince(t0));
    state->first = std::move(event);
  }

  const ResponseHeader header = NewResponseHeader(endpoint, model.id);
  const bool trace = request.trace, include_usage = request.include_usage;
  const ToolRequest tools = request.tools;
  const std::string echo = request.echo ? request.prompt : std::string();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state, header, trace, include_usage, echo, tools, t0](size_t, httplib::DataSink& sink) {
        Generation& gen = *state->generation;
        HeldToolCall held(tools);
        auto send = [&](const json& chunk) {
          if (sink.write) {
            std::string event = SseEvent(Dump(chunk));
            if (sink.is_writable() && sink.write(event.data(), event.size())) return true;
          }
          gen.Cancel();  // the client went away: stop drafting for it
          return false;
        };
        if (!send(FirstChunk(header))) return false;
        if (!echo.empty() && !send(SegmentChunk(header, echo, ""))) return false;
        auto send_event = [&](const Generation::Event& e) {
          const std::string text = held.Take(e.segment);
          if (text.empty() && !trace) return true;
          return send(SegmentChunk(header, text, trace ? e.round_json : ""));
        };
        if (state->first && !send_event(*state->first)) return false;
        Generation::Event e;
        Generation::Next n;
        while ((n = gen.Wait(&e, std::chrono::milliseconds(250))) != Generation::Next::kDone) {
          if (n == Generation::Next::kEvent && !send_event(e)) return false;
        }
        const auto& result = gen.result();
        if (result.ok()) {
          metrics.RecordAnswer(result->summary);
          for (const json& chunk :
               EndChunks(header, result.value(), tools, &held, trace, include_usage)) {
            if (!send(chunk)) return false;
          }
        } else {
          // Headers are long gone: report the failure in the stream, as OpenAI does.
          ApiError err = FromStatus(result.status());
          if (!send(json::parse(err.ToJson()))) return false;
        }
        std::string done = SseDone();
        if (!sink.write(done.data(), done.size())) return false;
        sink.done();
        metrics.ObserveLatency(SecondsSince(t0));
        return true;
      },
      [state](bool) { state->generation.reset(); });
}

HttpServer::HttpServer(ServerOptions options, ModelRegistry models, EnsembleOptions defaults)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(models), std::move(defaults))) {
  impl_->Routes();
}

HttpServer::~HttpServer() = default;

Status HttpServer::Bind() {
  const auto& o = impl_->options;
  if (Status checked = CheckServerOptions(o); !checked.ok()) return checked;
  if (o.port == 0) {
    impl_->bound_port = impl_->http.bind_to_any_port(o.host);
    if (impl_->bound_port < 0) impl_->bound_port = 0;
  } else if (impl_->http.bind_to_port(o.host, o.port)) {
    impl_->bound_port = o.port;
  }
  if (impl_->bound_port == 0) {
    return Status::Error(ErrorCode::kUnavailable, "cannot listen on " + o.host + ":" +
                                                      std::to_string(o.port) +
                                                      " (in use, or not an address of this host)");
  }
  impl_->http.SetListenBacklog(kListenBacklog);
  return Status::Ok();
}

int HttpServer::port() const { return impl_->bound_port; }

Status HttpServer::Serve() {
  bool listened = impl_->stopping || impl_->http.listen_after_bind();
  impl_->serve_returned = true;
  if (!listened && !impl_->stopping) {
    return Status::Error(ErrorCode::kInternal, "the server stopped unexpectedly");
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->admission.Shutdown();
  // httplib's stop() does nothing before the listen loop runs (and must run only once):
  // wait for the loop to start, unless Serve() has already returned or never will.
  while (!impl_->http.is_running() && !impl_->serve_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (impl_->http.is_running()) impl_->http.stop();
}

}  // namespace specfuse::server
