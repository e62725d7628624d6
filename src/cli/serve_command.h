// `specfuse serve`: the OpenAI-compatible HTTP server over an ensemble.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/run_command.h"
#include "server/http_server.h"

namespace specfuse::cli {

struct ServeFlags {
  EnsembleFlags ensemble;
  server::ServerOptions server;
};

void AddServeFlags(CLI::App* app, ServeFlags* flags);

// Loads the ensemble, serves until SIGINT or SIGTERM, and returns the exit status.
int ServeCommand(const ServeFlags& flags);

}  // namespace specfuse::cli
