// Fuzz target: loading a GGUF file, on mutated bytes written to a temporary file and
// handed to specfuse::LoadLlamaModel (our CheckGgufFile, then llama.cpp's loader and
// context creation, and a two-token draft when it loads). llama.cpp is not instrumented, so this only checks that no input
// crashes or aborts the process; a malformed file must come back as an error.
// Seeds: a tiny but complete llama-architecture model (make_gguf.py) and truncations.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_check.h"
#include "specfuse/llama_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/specfuse-fuzz-" + std::to_string(getpid()) +
           ".gguf";
  }();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(size == 0 || std::fwrite(data, 1, size, f) == size);
  std::fclose(f);

  specfuse::LlamaModelOptions options;
  options.path = path;
  options.context_size = 16;
  options.max_sequences = 1;
  options.max_candidates = 1;
  options.threads = 1;
  options.gpu_layers = 0;
  auto model = specfuse::LoadLlamaModel(options);
  if (!model.ok()) {
    FUZZ_CHECK(!model.status().message().empty());
  } else {
    // A file that loads must also answer (or refuse) a query without crashing.
    specfuse::SamplingOptions sampling;
    sampling.temperature = 0;
    auto sequence = (*model)->StartText("Hi there", sampling);
    if (sequence.ok()) (void)(*sequence)->DraftTokens(2);
  }
  std::remove(path.c_str());
  return 0;
}
