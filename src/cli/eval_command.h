// `specfuse eval`: scores each member alone, SpecFuse variants and best-of-n on the same
// evaluation items; resumable, one JSON line per finished (method, item).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/run_command.h"

namespace specfuse::cli {

struct EvalFlags {
  std::vector<std::string> data;  // JSON-lines item files (eval/README.md)
  std::string out;                // results, appended to; finished pairs are skipped
  std::string summary;            // summary JSON; default: out without .jsonl + .summary.json
  std::string methods;            // comma-separated; empty = all
  int limit = 0;                  // the first N items of each task type; 0 = all; tasks interleaved
  uint64_t sample_seed = 0;       // != 0: --limit takes a sample drawn from this seed
  int jobs = 1;                   // items answered concurrently over the loaded models
  std::string system;             // a system message before every item's prompt
  bool trace = false;             // record every SpecFuse round in the results
  bool rescore = false;           // score the answers already in --out again, with today's metrics
};

void AddEvalFlags(CLI::App* app, EvalFlags* flags);
int EvalCommand(const EnsembleFlags& ensemble, const EvalFlags& flags);

}  // namespace specfuse::cli
