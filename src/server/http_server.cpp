#include "server/http_server.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/admission.h"
#include "server/api_errors.h"
#include "server/chat_completions.h"
#include "server/generation.h"
#include "server/metrics.h"
#include "server/playground.h"
#include "server/request_options.h"
#include "server/sse.h"

namespace specfuse::server {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void SendError(httplib::Response& res, const ApiError& e) {
  res.status = e.http_status;
  res.set_content(e.ToJson(), "application/json");
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

std::string StatusText(int status) {
  switch (status) {
    case 404: return "no such endpoint";
    case 405: return "method not allowed";
    case 413: return "the request body is too large";
    case 414: return "the request URI is too long";
    default: return "the request failed";
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerOptions o, ModelRegistry m, EnsembleOptions d)
      : options(std::move(o)),
        models(std::move(m)),
        defaults(std::move(d)),
        admission(options.max_concurrent, options.queue, &metrics.queue_depth) {}

  void Routes();
  bool Authorized(const httplib::Request& req) const;
  void Generate(const std::string& body, httplib::Response& res, Endpoint endpoint);
  std::optional<ApiError> Prepare(const std::string& body, Endpoint endpoint,
                                  GenerationRequest* request, const ServedModel** model) const;
  ApiError Refusal(Admission::Outcome outcome) const;
  ApiError ModelNotFound(const std::string& id, const std::string& param) const;
  void ScorePrompt(const GenerationRequest& request, const ServedModel& model, httplib::Response& res);
  void Answer(const GenerationRequest& request, const ServedModel& model, Endpoint endpoint,
              Clock::time_point t0, httplib::Response& res);
  void Stream(const GenerationRequest& request, const ServedModel& model, Endpoint endpoint,
              Clock::time_point t0, std::unique_ptr<AdmissionSlot> slot, httplib::Response& res);

  ServerOptions options;
  ModelRegistry models;
  EnsembleOptions defaults;
  Metrics metrics;
  Admission admission;
  std::atomic<bool> stopping{false};
  int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  int bound_port = 0;
  std::atomic<bool> serve_returned{false};
  httplib::Server http;
};

bool HttpServer::Impl::Authorized(const httplib::Request& req) const {
  if (options.api_key.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.compare(0, prefix.size(), prefix) != 0) return false;
  return ConstantTimeEquals(options.api_key, header.substr(prefix.size()));
}

void HttpServer::Impl::Routes() {
  // Each connection holds a thread; queued answers wait on theirs, so the pool covers
  // running and queued answers plus room for /health, /metrics and /v1/models.
  const size_t threads = static_cast<size_t>(options.max_concurrent + options.queue + 8);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_body_bytes);

  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/v1/", 0) == 0 && !Authorized(req)) {
      ApiError e;
      e.http_status = 401;
      e.message = "invalid or missing API key; send 'Authorization: Bearer <key>'";
      e.code = "invalid_api_key";
      SendError(res, e);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                 httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0) return httplib::Server::HandlerResponse::Unhandled;
    ApiError e;
    e.http_status = res.status;
    e.message = StatusText(res.status);
    e.type = res.status >= 500 ? "server_error" : "invalid_request_error";
    SendError(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    ApiError e;
    e.http_status = 500;
    e.type = "server_error";
    e.message = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& ex) {
      e.message = std::string("internal error: ") + ex.what();
    } catch (...) {
    }
    SendError(res, e);
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (req.path.rfind("/v1/", 0) == 0) metrics.CountRequest(res.status);
  });

  RegisterPlayground(http);
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.Render(models.all().front().members), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    for (const auto& m : models.all()) {
      data.push_back({{"id", m.id}, {"object", "model"}, {"created", started}, {"owned_by", "specfuse"}});
    }
    res.set_content(Dump({{"object", "list"}, {"data", data}}), "application/json");
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    Generate(req.body, res, Endpoint::kChat);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    Generate(req.body, res, Endpoint::kCompletion);
  });
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

void HttpServer::Impl::Answer(const GenerationRequest& request, const ServedModel& model,
                              Endpoint endpoint, Clock::time_point t0, httplib::Response& res) {
  Result<specfuse::Answer> answer = Status::Error(ErrorCode::kInternal, "not answered");
  {
    GaugeHold holding(&metrics.active_sequences);
    Conversation conversation(model.members, request.options);
    bool first = true;
    auto on_segment = [&](const std::string&, const RoundTrace&) {
      if (first) metrics.ObserveFirstToken(SecondsSince(t0));
      first = false;
      return !stopping.load();
    };
    answer = endpoint == Endpoint::kChat ? conversation.Reply(request.messages, on_segment)
                                         : conversation.Complete(request.prompt, on_segment);
  }
  if (!answer.ok()) return SendError(res, FromStatus(answer.status()));
  metrics.RecordAnswer(answer->summary);
  metrics.ObserveLatency(SecondsSince(t0));
  std::string text = request.echo ? request.prompt + answer->text : answer->text;
  json response = FullResponse(NewResponseHeader(endpoint, model.id), text, *answer, request.trace);
  if (request.logprobs >= 0) {
    // The answer's tokens as the model reads them after the prompt (raw, temperature 1).
    auto scored = model.members[0].model->ScoreText(request.prompt + answer->text, request.logprobs);
    if (!scored.ok()) return SendError(res, FromStatus(scored.status()));
    response["choices"][0]["logprobs"] =
        CompletionLogprobs(*scored, request.echo ? 0 : request.prompt.size());
  }
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
  specfuse::Answer empty;
  empty.summary = summary;
  json response = FullResponse(NewResponseHeader(Endpoint::kCompletion, model.id), request.prompt,
                               empty, false);
  if (request.logprobs >= 0) response["choices"][0]["logprobs"] = CompletionLogprobs(*scored, 0);
  res.set_content(Dump(response), "application/json");
}

namespace {

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
  const std::string echo = request.echo ? request.prompt : std::string();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, state, header, trace, include_usage, echo, t0](size_t, httplib::DataSink& sink) {
        Generation& gen = *state->generation;
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
          if (e.segment.empty() && !trace) return true;
          return send(SegmentChunk(header, e.segment, trace ? e.round_json : ""));
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
          if (!send(FinalChunk(header, result->summary, trace))) return false;
          if (include_usage && !send(UsageChunk(header, result->summary))) return false;
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
