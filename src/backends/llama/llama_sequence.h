// LlamaSequence: one query's context on a LlamaModel, kept in the model's KV cache
// across rounds.
//
// KV invariant between calls: positions [0, n-1) of the sequence hold tokens_[0, n-1);
// the last token is "pending" (not yet decoded) so that the next draft or score decodes
// it and gets fresh logits. After a draft, the drafted tokens stay decoded after the
// pending one (positions [n-1, kv_len_)) so that accepting the drafter's own candidate
// costs no prefill.
//
// With a grammar (SamplingOptions::grammar), every drafted token keeps the answer inside
// it and every accepted segment advances it, whoever drafted the segment.
#pragma once

#include <llama.h>

#include <memory>
#include <vector>

#include "backends/llama/grammar_constraint.h"
#include "backends/llama/llama_model.h"
#include "core/token_sampler.h"
#include "specfuse/model.h"

namespace specfuse::llama {

class LlamaSequence : public Sequence {
 public:
  // grammar: null for free text.
  LlamaSequence(std::shared_ptr<LlamaModel> model, int seq, const SamplingOptions& sampling,
                std::unique_ptr<GrammarConstraint> grammar);
  ~LlamaSequence() override;

  Result<Draft> DraftTokens(int max_tokens) override;
  Result<std::vector<CandidateScore>> Score(const std::vector<std::string>& candidates) override;
  Status Accept(const std::string& text) override;
  Status Sync(const std::vector<ChatMessage>& messages) override;
  int ContextTokens() const override { return static_cast<int>(tokens_.size()); }
  int ContextLimit() const override { return model_->options().context_size; }
  int CountTokens(const std::string& text) const override;

  // Called once by LlamaModel::Start, without the model's mutex.
  Status PrefillPrompt(std::vector<llama_token> ids);

 private:
  // Drops KV cells at positions >= pos. Caller holds the model's mutex.
  void TrimKv(int pos);
  // The next draft token from row_: sampled as is when the grammar (if any) takes it, else
  // sampled again from the row with what the grammar refuses masked out.
  Result<llama_token> SampleNext();

  std::shared_ptr<LlamaModel> model_;
  int seq_;
  TokenSampler sampler_;
  std::unique_ptr<GrammarConstraint> grammar_;
  std::vector<llama_token> tokens_;      // prompt + accepted answer
  std::vector<llama_token> draft_ids_;   // tokens of the last draft, not yet accepted
  int kv_len_ = 0;                       // positions [0, kv_len_) are decoded
  std::vector<float> row_;                  // the last drafted step's logits
  std::vector<float> masked_;               // row_ under the grammar
};

}  // namespace specfuse::llama
