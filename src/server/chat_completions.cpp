#include "server/chat_completions.h"

#include <cmath>

#include <chrono>
#include <random>

namespace specfuse::server {

namespace {

using nlohmann::json;

const char* ObjectName(Endpoint e, bool chunk) {
  if (e == Endpoint::kCompletion) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json Envelope(const ResponseHeader& h, bool chunk) {
  return {{"id", h.id}, {"object", ObjectName(h.endpoint, chunk)}, {"created", h.created},
          {"model", h.model}, {"system_fingerprint", nullptr}};
}

// One choice of a chunk: delta for chat, text for completions.
json ChunkChoice(const ResponseHeader& h, json delta, const std::string& text, json finish_reason) {
  json c = {{"index", 0}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}};
  if (h.endpoint == Endpoint::kChat) c["delta"] = std::move(delta);
  else c["text"] = text;
  return c;
}

json ParseTraceLine(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

}  // namespace

ResponseHeader NewResponseHeader(Endpoint endpoint, const std::string& model) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kHex[] = "0123456789abcdef";
  std::string id = endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kHex[rng() % 16];
  ResponseHeader h;
  h.endpoint = endpoint;
  h.id = id;
  h.created = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  h.model = model;
  return h;
}

std::string FinishReason(const AnswerSummary& s) {
  return s.finish_reason == "length" ? "length" : "stop";
}

json Usage(const AnswerSummary& s) {
  return {{"prompt_tokens", s.prompt_tokens},
          {"completion_tokens", s.output_tokens},
          {"total_tokens", s.prompt_tokens + s.output_tokens}};
}

json Usage(const std::vector<AnswerSummary>& summaries) {
  int completion = 0;
  for (const AnswerSummary& s : summaries) completion += s.output_tokens;
  const int prompt = summaries.empty() ? 0 : summaries.front().prompt_tokens;
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion}};
}

json FullResponse(const ResponseHeader& h, const std::vector<ResponseChoice>& choices,
                  const json& usage, const Answer* traced) {
  json r = Envelope(h, false);
  r["choices"] = json::array();
  for (size_t k = 0; k < choices.size(); ++k) {
    const ResponseChoice& c = choices[k];
    json choice = {{"index", k}, {"logprobs", c.logprobs}, {"finish_reason", c.finish_reason}};
    if (h.endpoint == Endpoint::kChat) {
      const bool calls = !c.tool_calls.is_null();
      choice["message"] = {{"role", "assistant"},
                           {"content", calls ? json(nullptr) : json(c.text)},
                           {"refusal", nullptr}};
      if (calls) choice["message"]["tool_calls"] = c.tool_calls;
    } else {
      choice["text"] = c.text;
    }
    r["choices"].push_back(std::move(choice));
  }
  r["usage"] = usage;
  if (traced) {
    json rounds = json::array();
    for (const auto& round : traced->rounds) rounds.push_back(ParseTraceLine(RoundToJson(round)));
    json summary = ParseTraceLine(SummaryToJson(traced->summary));
    r["specfuse"] = {{"rounds", rounds},
                     {"summary", summary.is_object() ? summary["summary"] : json(nullptr)}};
  }
  return r;
}

json FirstChunk(const ResponseHeader& h) {
  json c = Envelope(h, true);
  c["choices"] = json::array({ChunkChoice(h, {{"role", "assistant"}, {"content", ""}}, "", nullptr)});
  return c;
}

json SegmentChunk(const ResponseHeader& h, const std::string& text, const std::string& round_json) {
  json c = Envelope(h, true);
  c["choices"] = json::array({ChunkChoice(h, {{"content", text}}, text, nullptr)});
  if (!round_json.empty()) c["specfuse"] = {{"round", ParseTraceLine(round_json)}};
  return c;
}

json FinalChunk(const ResponseHeader& h, const AnswerSummary& summary,
                const std::string& finish_reason, bool trace) {
  json c = Envelope(h, true);
  c["choices"] = json::array({ChunkChoice(h, json::object(), "", finish_reason)});
  if (trace) {
    json s = ParseTraceLine(SummaryToJson(summary));
    c["specfuse"] = {{"summary", s.is_object() ? s["summary"] : json(nullptr)}};
  }
  return c;
}

std::vector<json> ToolCallChunks(const ResponseHeader& h, const json& tool_calls) {
  std::vector<json> chunks;
  for (size_t i = 0; i < tool_calls.size(); ++i) {
    const json& call = tool_calls[i];
    json head = {{"index", i}, {"id", call["id"]}, {"type", "function"},
                 {"function", {{"name", call["function"]["name"]}, {"arguments", ""}}}};
    json args = {{"index", i}, {"function", {{"arguments", call["function"]["arguments"]}}}};
    for (json* delta : {&head, &args}) {
      json c = Envelope(h, true);
      c["choices"] = json::array({ChunkChoice(h, {{"tool_calls", json::array({*delta})}}, "", nullptr)});
      chunks.push_back(std::move(c));
    }
  }
  return chunks;
}

json UsageChunk(const ResponseHeader& h, const AnswerSummary& summary) {
  json c = Envelope(h, true);
  c["choices"] = json::array();
  c["usage"] = Usage(summary);
  return c;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json CompletionLogprobs(const TextScore& score, size_t first_offset) {
  json tokens = json::array(), logprobs = json::array(), top = json::array(), offsets = json::array();
  for (size_t i = 0; i < score.tokens.size(); ++i) {
    if (score.offsets[i] < first_offset) continue;
    const TokenInfo& t = score.tokens[i];
    tokens.push_back(t.piece);
    logprobs.push_back(std::isnan(t.logprob) ? json(nullptr) : json(t.logprob));
    if (std::isnan(t.logprob)) {
      top.push_back(nullptr);
    } else {
      json alternatives = json::object();
      for (const auto& [piece, lp] : score.top[i]) {
        if (!alternatives.contains(piece)) alternatives[piece] = lp;
      }
      top.push_back(alternatives);
    }
    offsets.push_back(score.offsets[i] - first_offset);
  }
  return {{"tokens", tokens}, {"token_logprobs", logprobs}, {"top_logprobs", top}, {"text_offset", offsets}};
}

}  // namespace specfuse::server
