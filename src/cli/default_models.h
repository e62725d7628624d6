// The default models that scripts/setup.sh fetches (models/manifest.tsv, compiled in),
// and where they live in the cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "specfuse/status.h"

namespace specfuse::cli {

struct DefaultModel {
  std::string name;
  std::string file;
  std::string sha256;
  int64_t bytes = 0;
  std::string license;
  std::string chat_template;  // "gguf": the file's own; else a llama.cpp template name
  std::string description;
  std::string path;           // where setup puts it
  bool present = false;       // the file is there with the expected size
};

// $SPECFUSE_CACHE, else ~/.cache/specfuse.
std::string CacheDir();
std::vector<DefaultModel> DefaultModels();
// The models of the default ensemble, in order.
std::vector<DefaultModel> DefaultEnsemble();
// A default model by name, or an error listing the names.
Result<DefaultModel> FindDefaultModel(const std::string& name);

}  // namespace specfuse::cli
