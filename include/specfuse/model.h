// The abstract model the SpecFuse engine works against. A Model is one loaded language
// model (in process or remote); a Sequence is one query's context on that model.
// Backends (llama.cpp, OpenAI-compatible servers) implement both.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "specfuse/status.h"

namespace specfuse {

// One chat message; role is "system", "user" or "assistant".
struct ChatMessage {
  std::string role;
  std::string content;
};

// How a drafter samples. temperature <= 0 means greedy (argmax).
struct SamplingOptions {
  float temperature = 0.6f;
  float top_p = 0.9f;
  int top_k = 0;  // 0 = off
  uint64_t seed = 42;
  // A GBNF grammar (llama.cpp's format, root rule "root") that the answer must stay inside:
  // every drafted token keeps the answer a prefix of a sentence of the grammar, and the
  // draft ends (end of generation) only where a sentence is complete. "" = free text.
  // specfuse/json_schema_grammar.h makes one from a JSON Schema. Only models whose
  // constrains_drafts() is true take one; Start() refuses it elsewhere.
  std::string grammar;
};

// One sampled token and what the model thought of it. logprob and logit are those of
// the raw (temperature 1, untruncated) distribution, so that they compare with Score().
struct TokenInfo {
  int32_t id = 0;
  std::string piece;  // the token's bytes; may hold part of a UTF-8 character
  float logprob = 0.0f;
  float logit = 0.0f;
  // log-probability of the most likely token at this position; NaN when not known (a
  // remote model). The anchor's token gate (core/anchor.h) compares the two.
  float best_logprob = NAN;
};

// What a Sequence drafted: up to N tokens continuing its context.
struct Draft {
  std::vector<TokenInfo> tokens;  // end-of-generation token not included
  bool end_of_generation = false;  // the model chose to stop after these tokens
  std::string Text() const;
};

// A verifier's view of one candidate continuation, token by token, in its own
// tokenization.
struct CandidateScore {
  std::vector<float> logprobs;
  std::vector<float> logits;
  // Per token, the log-probability of the verifier's most likely token at that position;
  // empty when the backend does not know it (a remote model).
  std::vector<float> best_logprobs;
  // log-probability that the model ends generation right after the candidate.
  float eog_logprob = 0.0f;
};

// One query's context on a model: the chat-templated prompt plus the answer accepted
// so far. Not thread-safe: one thread drives a Sequence at a time, while different
// Sequences of one Model may be used from different threads.
class Sequence {
 public:
  virtual ~Sequence() = default;

  // Continues the context by at most max_tokens sampled tokens. Does not change what
  // the context holds: a later Accept() decides what stays.
  virtual Result<Draft> DraftTokens(int max_tokens) = 0;

  // Scores each candidate text as a continuation of the context, all in one batched
  // pass. Returns one CandidateScore per candidate, in order. Does not change the context.
  virtual Result<std::vector<CandidateScore>> Score(const std::vector<std::string>& candidates) = 0;

  // Appends text to the context. Work already done (a draft that starts with this text)
  // is reused; only new tokens are processed.
  virtual Status Accept(const std::string& text) = 0;

  // Replaces the context with messages rendered by the chat template (a conversation
  // that grew by a turn), keeping the work done for the longest common prefix.
  virtual Status Sync(const std::vector<ChatMessage>& messages) = 0;

  // Tokens in the context now (prompt + accepted answer).
  virtual int ContextTokens() const = 0;
  // The most tokens this context may hold.
  virtual int ContextLimit() const = 0;
  // Token count of text in this model's tokenizer.
  virtual int CountTokens(const std::string& text) const = 0;
};

// A text read by a model from its start: every token with the log-probability the model
// gave it (the first token has none: NaN), and the most likely alternatives. This is what
// OpenAI-compatible servers return for `echo` with `logprobs`.
struct TextScore {
  std::vector<TokenInfo> tokens;
  std::vector<size_t> offsets;  // byte offset of each token's text in the input
  std::vector<std::vector<std::pair<std::string, float>>> top;  // per token, best first
};

// One loaded model. Thread-safe: Start() and all Sequence calls may come from any
// thread; the implementation serializes access to shared state.
// How a model's forward passes were shared between concurrent queries (for /metrics).
struct DecodeCounters {
  uint64_t decodes = 0;  // forward passes run
  uint64_t jobs = 0;     // queries' decode requests they served
  uint64_t merged = 0;   // passes that served more than one request
};

class Model {
 public:
  virtual ~Model() = default;

  virtual const std::string& name() const = 0;
  // The model's number of parameters, 0 when unknown (a remote model). The verifier size
  // prior (EnsembleOptions::size_prior) weighs verifiers by it.
  virtual int64_t parameter_count() const { return 0; }

  // Opens a query context from chat messages rendered with the model's own chat
  // template, ready to generate the assistant's reply. Fails with kContextOverflow
  // when the prompt does not fit, kUnavailable when no sequence slot is free.
  virtual Result<std::unique_ptr<Sequence>> Start(const std::vector<ChatMessage>& messages,
                                                  const SamplingOptions& sampling) = 0;

  // Opens a query context from raw text, without a chat template (text completions).
  virtual Result<std::unique_ptr<Sequence>> StartText(const std::string& prompt,
                                                      const SamplingOptions& sampling) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "model '" + name() + "' does not take raw text prompts");
  }

  // Scores text as the model reads it from the start (its BOS token added as it wants),
  // with the top_n most likely alternatives at each token.
  virtual Result<TextScore> ScoreText(const std::string& text, int top_n) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "model '" + name() + "' cannot score text");
  }

  // Whether its sequences draft under SamplingOptions::grammar. A grammar-constrained
  // ensemble needs every drafter to say yes; verifiers score text without one.
  virtual bool constrains_drafts() const { return false; }

  // Zero for models whose forward passes run elsewhere (remote members).
  virtual DecodeCounters decode_counters() const { return {}; }
};

}  // namespace specfuse
