// The in-process llama.cpp backend: loads a GGUF file and serves several independent
// query contexts (llama.cpp sequences) from one loaded model.
#pragma once

#include <memory>
#include <string>

#include "specfuse/model.h"
#include "specfuse/status.h"

namespace specfuse {

// Options for one in-process model. Defaults are written here once and shared by CLI
// flags and config files.
struct LlamaModelOptions {
  std::string path;             // GGUF file
  std::string name;             // shown in traces; default: the file name without .gguf
  std::string chat_template;    // "" = the GGUF's own; else a llama.cpp template name
                                // ("chatml", "gemma", "llama3", ...) or template text
  int context_size = 4096;      // tokens one query may hold
  int max_sequences = 4;        // queries served at once
  int max_candidates = 8;       // candidates scored in one batch
  int threads = 0;              // CPU threads; 0 = all cores
  int gpu_layers = -1;          // layers offloaded to a GPU; -1 = all (when built with one)
  // How long a forward pass may wait for other drafting queries' next tokens so that they
  // share it (only while several queries draft at once); 0 = never wait.
  int batch_wait_us = 1000;
};

// Loads a model. Fails with kNotFound (no such file), kInvalidModel (not GGUF, truncated
// or unsupported) or kInvalidArgument (bad options). Thread-safe.
Result<std::shared_ptr<Model>> LoadLlamaModel(const LlamaModelOptions& options);

// Quiets llama.cpp's own logging (the default) or lets it through to stderr.
void SetLlamaVerbose(bool verbose);

}  // namespace specfuse
