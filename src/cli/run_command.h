// `specfuse run` and `specfuse chat`: answer with an ensemble from the command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/ensemble_config.h"

namespace specfuse::cli {

// Flags shared by every command that builds an ensemble. Unset optionals leave the
// config file's (or the default) value.
struct EnsembleFlags {
  std::string config;
  std::vector<std::string> models;
  std::optional<int> segment_tokens, max_tokens, top_k, ctx_size, threads, gpu_layers;
  std::optional<float> temperature, top_p;
  std::optional<double> size_prior;
  std::optional<double> anchor_margin;
  std::optional<double> anchor_token_margin;
  std::optional<uint64_t> seed;
  std::optional<std::string> score, weights;
  std::optional<bool> exit;
  std::vector<std::string> stop;
  bool verbose = false;
};

void AddEnsembleFlags(CLI::App* app, EnsembleFlags* flags);

// Builds the ensemble config from the flags: config file, -m models or the default
// ensemble, then flag overrides.
Result<EnsembleConfig> ResolveEnsemble(const EnsembleFlags& flags);

// Loads every member's model, printing progress to stderr.
Result<std::vector<Member>> LoadMembers(const EnsembleConfig& config);

int RunCommand(const EnsembleFlags& flags, const std::string& prompt, const std::string& trace_path);
int ChatCommand(const EnsembleFlags& flags, const std::string& trace_path);

}  // namespace specfuse::cli
