// Fuzz target: the ensemble config file parser (TOML), on arbitrary bytes. Whatever the
// text, it returns a config or an error naming the file; a config it returns passes
// Validate, holds finite numbers only, and integers exactly as the file wrote them.
#include <cmath>
#include <cstdint>
#include <string>

#include <toml++/toml.h>

#include "cli/ensemble_config.h"
#include "fuzz_check.h"

namespace {

// An integer the file gives must arrive as written, never wrapped into the field's range.
void CheckInteger(const toml::table& root, const char* table, const char* key, int64_t got) {
  const toml::node* t = table ? root.get(table) : &root;
  const toml::node* n = t && t->is_table() ? t->as_table()->get(key) : nullptr;
  if (n && n->is_integer()) FUZZ_CHECK(*n->value<int64_t>() == got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = specfuse::cli::ParseEnsembleConfig(text, "fuzz/ensemble.toml");
  if (!config.ok()) {
    FUZZ_CHECK(config.status().message().rfind("fuzz/ensemble.toml", 0) == 0);
    return 0;
  }
  const specfuse::EnsembleOptions& o = config->options;
  FUZZ_CHECK(specfuse::Validate(o).ok());
  toml::table root = toml::parse(text);  // parsed once already, so it does not throw
  CheckInteger(root, nullptr, "segment_tokens", o.segment_tokens);
  CheckInteger(root, nullptr, "max_tokens", o.max_tokens);
  CheckInteger(root, "sampling", "top_k", o.sampling.top_k);
  CheckInteger(root, "exit", "warmup_rounds", o.exit.warmup_rounds);
  CheckInteger(root, "exit", "min_active", o.exit.min_active);
  FUZZ_CHECK(std::isfinite(o.sampling.temperature) && std::isfinite(o.sampling.top_p));
  FUZZ_CHECK(std::isfinite(o.hedge_eta0));
  FUZZ_CHECK(std::isfinite(o.exit.temperature) && std::isfinite(o.exit.entropy_threshold) &&
             std::isfinite(o.exit.epsilon));
  for (const auto& m : config->members) {
    FUZZ_CHECK(std::isfinite(m.temperature));
    if (m.backend == specfuse::cli::MemberBackend::kOpenAI) {
      FUZZ_CHECK(!m.openai.url.empty());
      FUZZ_CHECK(std::isfinite(m.openai.timeout_s) && m.openai.timeout_s > 0 &&
                 m.openai.timeout_s <= 1e6);
      FUZZ_CHECK(m.openai.retries >= 0 && m.openai.context_size >= 0);
    } else {
      FUZZ_CHECK(!m.llama.path.empty());
    }
  }
  return 0;
}
