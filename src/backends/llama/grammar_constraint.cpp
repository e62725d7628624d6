#include "backends/llama/grammar_constraint.h"

#include <cmath>
#include <exception>

namespace specfuse::llama {

Result<std::unique_ptr<GrammarConstraint>> GrammarConstraint::Create(const llama_vocab* vocab,
                                                                     const std::string& gbnf) {
  llama_sampler* grammar = nullptr;
  try {
    grammar = llama_sampler_init_grammar(vocab, gbnf.c_str(), "root");
  } catch (const std::exception&) {
    grammar = nullptr;
  }
  if (grammar == nullptr) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "the grammar does not parse as GBNF with a rule named 'root'");
  }
  return std::unique_ptr<GrammarConstraint>(new GrammarConstraint(vocab, grammar));
}

GrammarConstraint::GrammarConstraint(const llama_vocab* vocab, llama_sampler* accepted)
    : vocab_(vocab), accepted_(accepted) {
  const int n_vocab = llama_vocab_n_tokens(vocab);
  control_.assign(n_vocab, 0);
  for (llama_token t = 0; t < n_vocab; ++t) {
    control_[t] = llama_vocab_is_control(vocab, t) && !llama_vocab_is_eog(vocab, t);
  }
}

GrammarConstraint::~GrammarConstraint() {
  for (llama_sampler* s : {accepted_, draft_, staged_}) {
    if (s != nullptr) llama_sampler_free(s);
  }
}

void GrammarConstraint::BeginDraft() {
  if (draft_ != nullptr) llama_sampler_free(draft_);
  draft_ = llama_sampler_clone(accepted_);
}

bool GrammarConstraint::Takes(llama_sampler* grammar, llama_token token) {
  if (token < 0 || token >= static_cast<llama_token>(control_.size()) || control_[token]) return false;
  llama_token_data cell = {token, 0.0f, 0.0f};
  llama_token_data_array one = {&cell, 1, -1, false};
  llama_sampler_apply(grammar, &one);
  return std::isfinite(cell.logit);
}

bool GrammarConstraint::Allows(llama_token token) { return Takes(draft_, token); }

bool GrammarConstraint::Mask(float* logits, int n_vocab) {
  cells_.resize(n_vocab);
  for (int i = 0; i < n_vocab; ++i) cells_[i] = {i, logits[i], 0.0f};
  llama_token_data_array all = {cells_.data(), cells_.size(), -1, false};
  llama_sampler_apply(draft_, &all);
  bool any = false;
  for (int i = 0; i < n_vocab; ++i) {
    // The sampler may reorder the array; each cell still names its token.
    const llama_token_data& c = cells_[i];
    const bool allowed = std::isfinite(c.logit) && !control_[c.id];
    if (!allowed) logits[c.id] = -INFINITY;
    any = any || allowed;
  }
  return any;
}

void GrammarConstraint::AdvanceDraft(llama_token token) { llama_sampler_accept(draft_, token); }

Status GrammarConstraint::Stage(const std::vector<llama_token>& tokens) {
  if (staged_ != nullptr) llama_sampler_free(staged_);
  staged_ = llama_sampler_clone(accepted_);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (llama_vocab_is_eog(vocab_, tokens[i]) || !Takes(staged_, tokens[i])) {
      llama_sampler_free(staged_);
      staged_ = nullptr;
      return Status::Error(ErrorCode::kInvalidArgument,
                           "token " + std::to_string(i) + " (id " + std::to_string(tokens[i]) +
                               ") of the accepted text leaves the answer's grammar");
    }
    llama_sampler_accept(staged_, tokens[i]);
  }
  return Status::Ok();
}

void GrammarConstraint::Commit() {
  if (staged_ == nullptr) return;
  llama_sampler_free(accepted_);
  accepted_ = staged_;
  staged_ = nullptr;
}

void GrammarConstraint::Reset() { llama_sampler_reset(accepted_); }

}  // namespace specfuse::llama
