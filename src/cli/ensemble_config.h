// The ensemble config file (TOML): members and EnsembleOptions. CLI flags override it.
#pragma once

#include <string>
#include <vector>

#include "specfuse/engine.h"
#include "specfuse/ensemble_options.h"
#include "specfuse/llama_backend.h"
#include "specfuse/openai_backend.h"
#include "specfuse/status.h"

namespace specfuse::cli {

enum class MemberBackend {
  kLlama,   // a GGUF file loaded in process
  kOpenAI,  // a model behind an OpenAI-compatible server (backend = "openai")
};

struct MemberConfig {
  MemberBackend backend = MemberBackend::kLlama;
  LlamaModelOptions llama;    // kLlama
  OpenAIModelOptions openai;  // kOpenAI
  MemberRole role = MemberRole::kBoth;
  float temperature = -1.0f;  // < 0: the ensemble's
  double weight = 0.0;        // > 0: prior verifier weight; 0: from size_prior
  bool optional = false;      // a member that cannot be loaded or reached is skipped with a warning
};

struct EnsembleConfig {
  std::string name = "specfuse";
  std::vector<MemberConfig> members;
  EnsembleOptions options;
};

// Parses a config. Unknown keys and wrong types are errors naming the key and the file.
// A local member gives `path` (a GGUF file; relative to the config file) or `model` (the
// name of a default model). A remote member gives `backend = "openai"` and `url`, with
// `remote_model`, `api_key` or `api_key_env`, `timeout_s`, `retries`, `chat_template`,
// `context_size` and `batch_scoring` as needed (docs/DISTRIBUTED.md).
Result<EnsembleConfig> ParseEnsembleConfig(const std::string& text, const std::string& origin);
Result<EnsembleConfig> LoadEnsembleConfig(const std::string& path);

// A member for a -m argument: a GGUF path or a default model's name.
Result<MemberConfig> MemberFromArgument(const std::string& arg);
// The default ensemble; an error saying to run setup when its models are missing.
Result<std::vector<MemberConfig>> DefaultMembers();

}  // namespace specfuse::cli
