// Paths of the default models that scripts/setup.sh fetched, for tests that run real
// models. A missing model fails the test (setup must have run); it is never skipped.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace specfuse::testing {

inline std::string CacheDir() {
  if (const char* c = std::getenv("SPECFUSE_CACHE"); c && *c) return c;
  return std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.cache/specfuse";
}

inline std::string ModelPath(const std::string& file) {
  return CacheDir() + "/models/" + file;
}

inline const char* kSmol = "SmolLM2-135M-Instruct.Q4_1.gguf";
inline const char* kQwen = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";
inline const char* kGemma = "gemma-3-270m-q4_k_m.gguf";

}  // namespace specfuse::testing
