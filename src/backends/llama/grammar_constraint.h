// GrammarConstraint: one sequence's grammar (SamplingOptions::grammar) over its model's
// vocabulary, by llama.cpp's grammar sampler. It holds the grammar's state after the
// answer accepted so far; a draft advances a copy of it (BeginDraft), so that drafted
// tokens which are not accepted never reach the accepted state, and an accepted segment
// (whoever drafted it) advances the accepted state through Stage() and Commit().
// Not thread-safe: owned and driven by one sequence.
#pragma once

#include <llama.h>

#include <memory>
#include <string>
#include <vector>

#include "specfuse/status.h"

namespace specfuse::llama {

class GrammarConstraint {
 public:
  // Parses gbnf (root rule "root") for vocab. Fails with kInvalidArgument when llama.cpp
  // cannot parse it.
  static Result<std::unique_ptr<GrammarConstraint>> Create(const llama_vocab* vocab,
                                                           const std::string& gbnf);
  ~GrammarConstraint();
  GrammarConstraint(const GrammarConstraint&) = delete;
  GrammarConstraint& operator=(const GrammarConstraint&) = delete;

  // Starts a draft from the accepted state.
  void BeginDraft();
  // Whether the draft may go on with token: its text fits the grammar, or it ends
  // generation where the grammar is complete. Control tokens that do not end
  // generation never fit.
  bool Allows(llama_token token);
  // Sets to -inf every entry of a row of logits (one per vocabulary token) that Allows()
  // would refuse. Returns false when none is left.
  bool Mask(float* logits, int n_vocab);
  // Advances the draft by a token that Allows() took (not an end of generation).
  void AdvanceDraft(llama_token token);

  // Checks that the accepted state can take tokens, in order, and keeps the state they
  // lead to for Commit(). Fails with kInvalidArgument, naming the first token refused,
  // and leaves nothing staged.
  Status Stage(const std::vector<llama_token>& tokens);
  // Makes the staged state the accepted one.
  void Commit();
  // Back to the start of an answer (an empty accepted state).
  void Reset();

 private:
  GrammarConstraint(const llama_vocab* vocab, llama_sampler* accepted);
  // Whether grammar (in its current state) takes token.
  bool Takes(llama_sampler* grammar, llama_token token);

  const llama_vocab* vocab_;
  llama_sampler* accepted_;
  llama_sampler* draft_ = nullptr;
  llama_sampler* staged_ = nullptr;
  std::vector<char> control_;  // per token: a control token that does not end generation
  std::vector<llama_token_data> cells_;
};

}  // namespace specfuse::llama
