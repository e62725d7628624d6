// Request bodies of /v1/chat/completions and /v1/completions, parsed and checked into the
// engine's own option struct. Request fields use the EnsembleOptions names; OpenAI's
// fields map onto them (max_tokens, temperature, top_p, seed, stop).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_errors.h"
#include "server/tool_calls.h"
#include "specfuse/ensemble_options.h"
#include "specfuse/model.h"

namespace specfuse::server {

// The most answers (`n`) one request may ask for.
inline constexpr int kMaxChoices = 8;

// The seed of answer k of a request seeded with seed: far apart for every k, and answer 0
// keeps the request's own seed, so n = 1 answers as before.
inline uint64_t ChoiceSeed(uint64_t seed, int k) {
  return seed + static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ull;
}

struct GenerationRequest {
  std::string model;                  // "" = the whole ensemble
  std::vector<ChatMessage> messages;  // /v1/chat/completions only
  std::string prompt;                 // /v1/completions only: raw text, no chat template
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool trace = false;          // specfuse.trace: return the round trace
  bool echo = false;           // /v1/completions: prepend the prompt to the answer
  bool seeded = false;         // the request chose its seed
  int logprobs = -1;           // /v1/completions: top alternatives per token; -1 = none
  bool score_only = false;     // /v1/completions with echo and max_tokens 0: score the prompt
  int n = 1;                   // independent answers, 1 to kMaxChoices
  ToolRequest tools;           // /v1/chat/completions: tools, tool_choice, parallel_tool_calls
  EnsembleOptions options;
};

// Parses a chat completion request over the server's default options. Returns the
// problem (400, naming the field) when the body is not a valid request. Every field of
// OpenAI's request either works, is ignored where OpenAI's meaning allows that (`user`,
// `metadata`, ...), or is refused by name: code unsupported_parameter for OpenAI features
// specfuse lacks (`logit_bias`, `functions`, ...) unless the value is their no-op default,
// unknown_parameter for fields OpenAI does not have. The tables are in request_options.cpp.
std::optional<ApiError> ParseChatRequest(const nlohmann::json& body, const EnsembleOptions& defaults,
                                         GenerationRequest* out);

// Parses a (legacy) text completion request the same way, fields checked the same way.
std::optional<ApiError> ParseCompletionRequest(const nlohmann::json& body,
                                               const EnsembleOptions& defaults,
                                               GenerationRequest* out);

}  // namespace specfuse::server
