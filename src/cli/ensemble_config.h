// The ensemble config file (TOML): members and EnsembleOptions. CLI flags override it.
#pragma once

#include <string>
#include <vector>

#include "specfuse/engine.h"
#include "specfuse/ensemble_options.h"
#include "specfuse/llama_backend.h"
#include "specfuse/status.h"

namespace specfuse::cli {

struct MemberConfig {
  LlamaModelOptions llama;
  MemberRole role = MemberRole::kBoth;
  float temperature = -1.0f;  // < 0: the ensemble's
};

struct EnsembleConfig {
  std::string name = "specfuse";
  std::vector<MemberConfig> members;
  EnsembleOptions options;
};

// Parses a config. Unknown keys and wrong types are errors naming the key and the file.
// A member gives `path` (a GGUF file; relative to the config file) or `model` (the name
// of a default model).
Result<EnsembleConfig> ParseEnsembleConfig(const std::string& text, const std::string& origin);
Result<EnsembleConfig> LoadEnsembleConfig(const std::string& path);

// A member for a -m argument: a GGUF path or a default model's name.
Result<MemberConfig> MemberFromArgument(const std::string& arg);
// The default ensemble; an error saying to run setup when its models are missing.
Result<std::vector<MemberConfig>> DefaultMembers();

}  // namespace specfuse::cli
