// OpenAIModel: one member served by an OpenAI-compatible server. It holds the HTTP
// endpoint and renders chat templates locally; its sequences hold their context as text.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/openai/http_endpoint.h"
#include "specfuse/model.h"
#include "specfuse/openai_backend.h"

namespace specfuse::openai {

class OpenAIModel : public Model, public std::enable_shared_from_this<OpenAIModel> {
 public:
  OpenAIModel(OpenAIModelOptions options, std::unique_ptr<HttpEndpoint> endpoint);

  const std::string& name() const override { return options_.name; }
  Result<std::unique_ptr<Sequence>> Start(const std::vector<ChatMessage>& messages,
                                          const SamplingOptions& sampling) override;
  Result<std::unique_ptr<Sequence>> StartText(const std::string& prompt,
                                              const SamplingOptions& sampling) override;
  Result<TextScore> ScoreText(const std::string& text, int top_n) override;

  // --- used by OpenAISequence; thread-safe ---
  const OpenAIModelOptions& options() const { return options_; }
  HttpEndpoint& endpoint() { return *endpoint_; }
  // Renders chat messages with the configured llama.cpp template, ready for the reply.
  Result<std::string> RenderChat(const std::vector<ChatMessage>& messages) const;
  // POST /v1/completions for this member's remote model.
  Result<nlohmann::json> Complete(nlohmann::json body, const std::string& what);
  // Scores the last tail_bytes of each prompt (echo, max_tokens 0): one request per
  // prompt in parallel, or one request with a prompt array when batch_scoring is set.
  Result<std::vector<std::vector<TokenInfo>>> ScoreTails(const std::vector<std::string>& prompts,
                                                          const std::vector<size_t>& tail_bytes);
  // Whether drafts' own logprobs spell their text. Some servers (specfuse serve before
  // it counted control tokens) return them cut or shifted; then drafts stop asking for
  // them and score their text with an echo request instead.
  bool draft_logprobs_usable() const { return draft_logprobs_usable_.load(); }
  void set_draft_logprobs_unusable() { draft_logprobs_usable_.store(false); }

 private:
  OpenAIModelOptions options_;
  std::unique_ptr<HttpEndpoint> endpoint_;
  std::atomic<bool> draft_logprobs_usable_{true};
};

// Token estimate used where the remote tokenizer would be needed: bytes / 4, rounded up.
int EstimateTokens(size_t bytes);

// From one choice of an echo completion of `prompt`, the tokens that spell the last
// tail_bytes bytes of the prompt, with their log-probabilities (logit = logprob: the
// API does not give logits). Tokens are matched from the end by their text, so servers
// whose text_offset counts characters rather than bytes, or skips control tokens, are
// read right; a token that straddles the boundary is left out unless it is the only one.
// Tokens generated after the echo (a server that ignores max_tokens 0) are skipped.
Result<std::vector<TokenInfo>> EchoTail(const nlohmann::json& choice, const std::string& prompt,
                                        size_t tail_bytes);

}  // namespace specfuse::openai
