// `specfuse bench`: in one run, each member alone and the ensemble with exit off and on,
// on the same prompts; prints where the time goes and the ratios that matter.
#pragma once

#include <string>

#include "cli/run_command.h"

namespace specfuse::cli {

struct BenchFlags {
  std::string prompts;  // one prompt per line; empty = a built-in set
  bool json = false;
  bool members_alone = true;
};

int BenchCommand(const EnsembleFlags& flags, const BenchFlags& bench);

}  // namespace specfuse::cli
