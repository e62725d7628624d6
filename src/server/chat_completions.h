// The response objects of /v1/chat/completions and /v1/completions in OpenAI's shapes:
// the whole answer, and the chunks of a stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "specfuse/engine.h"

namespace specfuse::server {

enum class Endpoint {
  kChat,        // chat.completion / chat.completion.chunk
  kCompletion,  // text_completion
};

// What every object of one response repeats.
struct ResponseHeader {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;  // chatcmpl-... or cmpl-...
  int64_t created = 0;
  std::string model;
};

// A fresh header with a random id and the current time.
ResponseHeader NewResponseHeader(Endpoint endpoint, const std::string& model);

// OpenAI's finish reasons: "stop" or "length" (a cancelled answer reports "stop").
std::string FinishReason(const AnswerSummary& summary);

// {"prompt_tokens", "completion_tokens", "total_tokens"}.
nlohmann::json Usage(const AnswerSummary& summary);

// The usage of n answers to one prompt, as OpenAI counts it: the prompt once, the
// completions summed.
nlohmann::json Usage(const std::vector<AnswerSummary>& summaries);

// One choice of a whole response.
struct ResponseChoice {
  std::string text;            // the answer as the client sees it (with an echoed prompt)
  std::string finish_reason;   // "stop", "length" or "tool_calls"
  nlohmann::json tool_calls;   // chat: message.tool_calls (then content is null), or null
  nlohmann::json logprobs;     // completions: the logprobs object, or null
};

// The whole response: choices in order (index k is choices[k]) and their usage. With
// traced set, a "specfuse" field carries its {"rounds": [...], "summary": {...}}.
nlohmann::json FullResponse(const ResponseHeader& h, const std::vector<ResponseChoice>& choices,
                            const nlohmann::json& usage, const Answer* traced);

// The legacy completions "logprobs" object ({tokens, token_logprobs, top_logprobs,
// text_offset}) for the tokens of score that start at or after byte first_offset; offsets
// are reported relative to first_offset.
nlohmann::json CompletionLogprobs(const TextScore& score, size_t first_offset);

// Stream chunks. The first carries the assistant role (chat) or nothing yet; each segment
// chunk carries a piece of text and, when round_json is set, {"specfuse": {"round": ...}};
// the final chunk has an empty delta and the finish reason; the usage chunk has no choices.
nlohmann::json FirstChunk(const ResponseHeader& h);
nlohmann::json SegmentChunk(const ResponseHeader& h, const std::string& text,
                            const std::string& round_json);
nlohmann::json FinalChunk(const ResponseHeader& h, const AnswerSummary& summary,
                          const std::string& finish_reason, bool trace);
// The chunks of an answer's tool calls (OpenAI's message.tool_calls), as OpenAI streams
// them: per call, one delta with its index, id, type, name and empty arguments, then one
// with its arguments.
std::vector<nlohmann::json> ToolCallChunks(const ResponseHeader& h, const nlohmann::json& tool_calls);
nlohmann::json UsageChunk(const ResponseHeader& h, const AnswerSummary& summary);

// Serialization that never throws on invalid UTF-8 (it is replaced).
std::string Dump(const nlohmann::json& j);

}  // namespace specfuse::server
