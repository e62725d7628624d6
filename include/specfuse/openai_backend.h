// The remote backend: an ensemble member served by an OpenAI-compatible HTTP server
// (vLLM, SGLang, or another `specfuse serve`), reached through its /v1/completions
// endpoint. Drafting is a completion with `logprobs`; scoring is an `echo` completion with
// `max_tokens: 0`. The chat template is rendered here, so the server sees raw text.
#pragma once

#include <memory>
#include <string>

#include "specfuse/model.h"
#include "specfuse/status.h"

namespace specfuse {

// Options for one remote member. Defaults are written here once and shared by the
// config file's [[member]] keys of the same names.
struct OpenAIModelOptions {
  std::string url;            // base URL: "http://gpu1:8000" ("/v1" at the end is accepted)
  std::string remote_model;   // the server's model id; "" = the first one /v1/models lists
  std::string name;           // shown in traces; default: remote_model
  std::string api_key;        // sent as "Authorization: Bearer <key>"; "" = none
  std::string chat_template;  // a llama.cpp template name ("chatml", "gemma", "llama3", ...);
                              // needed for chat queries, not for raw text completions
  double timeout_s = 60.0;    // deadline of one remote call (draft, score), retries included
  int retries = 2;            // further attempts after a connection error, a 5xx or a 429
  int context_size = 0;       // token limit; 0 = the server's max_model_len, else 4096
  bool batch_scoring = false; // score a round's candidates in one request with a prompt
                              // array (vLLM); else one request per candidate, in parallel
};

// Connects to a remote member: checks that GET /v1/models answers within the deadline
// and lists remote_model. Errors: kInvalidArgument (bad URL or options), kUnavailable
// (unreachable, timed out, not an OpenAI-compatible answer), kNotFound (the server does
// not serve remote_model; the message lists what it serves). Thread-safe.
//
// The returned Model is thread-safe. Its sequences keep their context as text and send
// it whole with every call (the server's prefix cache avoids recomputing it); they count
// tokens by estimate (bytes / 4), as the remote tokenizer is not at hand. Every failure
// of a remote call is kUnavailable with a message naming the member, so the engine drops
// that member for the rest of the query.
Result<std::shared_ptr<Model>> ConnectOpenAIModel(const OpenAIModelOptions& options);

}  // namespace specfuse
