// Fuzz target: what a remote member's server returns for an echo completion (the JSON of
// one choice with logprobs), read by EchoTail exactly as a remote verifier reads it. Input:
// a JSON object {"prompt": string, "tail": integer, "choice": object}; anything else is
// skipped. Every input gives either an error or tokens that spell, in order and without
// gaps, a piece of the scored tail of the prompt.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/openai/openai_model.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json in =
      nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size,
                            nullptr, false);
  if (!in.is_object()) return 0;
  auto prompt = in.find("prompt");
  auto tail = in.find("tail");
  auto choice = in.find("choice");
  if (prompt == in.end() || !prompt->is_string() || tail == in.end() || !tail->is_number_unsigned() ||
      choice == in.end() || !choice->is_object()) {
    return 0;
  }
  const std::string& text = prompt->get_ref<const std::string&>();
  const size_t tail_bytes = tail->get<uint64_t>() % (text.size() + 2);
  auto tokens = specfuse::openai::EchoTail(*choice, text, tail_bytes);
  if (!tokens.ok()) {
    FUZZ_CHECK(!tokens.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!tokens->empty());
  FUZZ_CHECK(tokens->size() <= (*choice)["logprobs"]["tokens"].size());
  std::string spelled;
  for (const auto& t : *tokens) spelled += t.piece;
  const std::string scored = text.substr(text.size() - std::min(tail_bytes, text.size()));
  FUZZ_CHECK(scored.find(spelled) != std::string::npos);
  return 0;
}
