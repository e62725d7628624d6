// `specfuse run` and `specfuse chat`: answer with an ensemble from the command line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/ensemble_config.h"

namespace specfuse::cli {

// Flags shared by every command that builds an ensemble: one per row of the option table
// (specfuse/option_table.h) that names a flag, and the members' own. Options not given
// leave the config file's (or the default) value.
struct EnsembleFlags {
  std::string config;
  std::vector<std::string> models;
  // The option flags given, by option name ("sampling.seed"), as typed; a list flag holds
  // every use, a bool "true" or "false".
  std::map<std::string, std::vector<std::string>> options;
  std::optional<int> ctx_size, threads, gpu_layers;
  bool verbose = false;

  // Whether the command line set the option named `name`.
  bool Gave(const std::string& name) const {
    auto it = options.find(name);
    return it != options.end() && !it->second.empty();
  }
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
