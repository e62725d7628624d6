// OpenAISequence: one query's context on a remote member, kept here as text (the
// rendered prompt plus the accepted answer) and sent whole with every call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/openai/openai_model.h"
#include "specfuse/model.h"

namespace specfuse::openai {

class OpenAISequence : public Sequence {
 public:
  OpenAISequence(std::shared_ptr<OpenAIModel> model, std::string prompt,
                 const SamplingOptions& sampling);

  // One completion of at most max_tokens tokens with a seed of its own (derived from the
  // sequence's seed and the number of drafts so far, so runs repeat and drafts differ).
  Result<Draft> DraftTokens(int max_tokens) override;
  // One echo completion per candidate, all in flight at once.
  Result<std::vector<CandidateScore>> Score(const std::vector<std::string>& candidates) override;
  Status Accept(const std::string& text) override;
  Status Sync(const std::vector<ChatMessage>& messages) override;
  // Estimates (bytes / 4): the remote tokenizer is not at hand.
  int ContextTokens() const override;
  int ContextLimit() const override;
  int CountTokens(const std::string& text) const override;

 private:
  std::shared_ptr<OpenAIModel> model_;
  SamplingOptions sampling_;
  std::string context_;
  uint64_t drafts_ = 0;
};

}  // namespace specfuse::openai
