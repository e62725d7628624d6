// Fuzz target: request bodies of /v1/chat/completions and /v1/completions, on arbitrary
// bytes, exactly as the server reads them (json::parse, then the request parsers). Every
// input gives either a 400 that serializes, or a request within the documented bounds.
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "server/request_options.h"

namespace {

using specfuse::server::ApiError;
using specfuse::server::GenerationRequest;

void CheckError(const ApiError& e) {
  FUZZ_CHECK(e.http_status == 400);
  FUZZ_CHECK(!e.message.empty());
  // The error body is what the client gets: always valid JSON (invalid UTF-8 replaced).
  nlohmann::json back = nlohmann::json::parse(e.ToJson(), nullptr, false);
  FUZZ_CHECK(back.is_object() && back["error"]["message"].is_string());
}

void CheckCommon(const GenerationRequest& r) {
  const specfuse::EnsembleOptions& o = r.options;
  FUZZ_CHECK(specfuse::Validate(o).ok());
  FUZZ_CHECK(o.max_tokens >= 1 && o.max_tokens <= (1 << 20));
  FUZZ_CHECK(o.segment_tokens >= 1 && o.segment_tokens <= 256);
  FUZZ_CHECK(std::isfinite(o.sampling.temperature) && o.sampling.temperature >= 0 &&
             o.sampling.temperature <= 2);
  FUZZ_CHECK(o.sampling.top_p > 0 && o.sampling.top_p <= 1);
  FUZZ_CHECK(o.stop.size() <= 16);
  for (const auto& s : o.stop) FUZZ_CHECK(!s.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    CheckError(specfuse::server::BadRequest(std::string("the body is not valid JSON: ") + e.what()));
    return 0;
  }
  const specfuse::EnsembleOptions defaults;

  GenerationRequest chat;
  if (auto e = specfuse::server::ParseChatRequest(body, defaults, &chat)) {
    CheckError(*e);
  } else {
    CheckCommon(chat);
    FUZZ_CHECK(!chat.messages.empty());
    for (const auto& m : chat.messages) {
      FUZZ_CHECK(m.role == "system" || m.role == "user" || m.role == "assistant");
    }
    FUZZ_CHECK(chat.n >= 1 && chat.n <= specfuse::server::kMaxChoices);
    FUZZ_CHECK(chat.n == 1 || (!chat.stream && !chat.trace));
    if (chat.tools.offered()) {
      // Offered tools come with their grammar and their system text.
      FUZZ_CHECK(!chat.options.sampling.grammar.empty());
      FUZZ_CHECK(chat.messages.front().role == "system");
      FUZZ_CHECK(chat.tools.tools.size() <= specfuse::server::kMaxTools);
    }
  }

  GenerationRequest completion;
  if (auto e = specfuse::server::ParseCompletionRequest(body, defaults, &completion)) {
    CheckError(*e);
  } else {
    CheckCommon(completion);
    FUZZ_CHECK(!completion.prompt.empty());
    FUZZ_CHECK(completion.logprobs >= -1 && completion.logprobs <= 20);
    FUZZ_CHECK(!completion.score_only || completion.echo);
    FUZZ_CHECK(completion.logprobs < 0 || !completion.stream);
    FUZZ_CHECK(completion.n >= 1 && completion.n <= specfuse::server::kMaxChoices);
  }
  return 0;
}
