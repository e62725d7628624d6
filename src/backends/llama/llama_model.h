// LlamaModel: one GGUF model loaded in process, with one llama_context whose unified KV
// cache holds the sequences of several queries plus scratch sequences for scoring.
#pragma once

#include <llama.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "specfuse/llama_backend.h"
#include "specfuse/model.h"

namespace specfuse::llama {

class LlamaModel : public Model, public std::enable_shared_from_this<LlamaModel> {
 public:
  LlamaModel(LlamaModelOptions options, llama_model* model, llama_context* ctx);
  ~LlamaModel() override;

  const std::string& name() const override { return options_.name; }
  Result<std::unique_ptr<Sequence>> Start(const std::vector<ChatMessage>& messages,
                                          const SamplingOptions& sampling) override;
  Result<std::unique_ptr<Sequence>> StartText(const std::string& prompt,
                                              const SamplingOptions& sampling) override;
  Result<TextScore> ScoreText(const std::string& text, int top_n) override;

  // --- used by LlamaSequence; callers hold mutex() ---
  std::mutex& mutex() { return mutex_; }
  llama_context* ctx() { return ctx_; }
  const llama_vocab* vocab() const { return vocab_; }
  const LlamaModelOptions& options() const { return options_; }
  int n_vocab() const { return n_vocab_; }
  int n_batch() const { return n_batch_; }

  // Renders chat messages with the chat template into the prompt text.
  Result<std::string> RenderChat(const std::vector<ChatMessage>& messages) const;
  // Tokenizes text; with_special adds BOS (as the model wants) and parses control tokens.
  std::vector<llama_token> Tokenize(const std::string& text, bool with_special) const;
  // The token's bytes; with special, control tokens render as their text (<|im_end|>).
  std::string Piece(llama_token token, bool special = false) const;
  bool IsEndOfGeneration(llama_token token) const;
  // Log-probability of end of generation under one logits row.
  float EndOfGenerationLogprob(const float* logits, float log_z) const;

  // Sequence ids: one per open query, plus scratch ids while scoring.
  int AcquireSeq();  // -1 when none is free
  void ReleaseSeq(int seq);

  // Decodes tokens [begin, end) of ids at positions starting at pos0 into seq, in chunks
  // of n_batch, without outputs.
  Status Prefill(int seq, const std::vector<llama_token>& ids, size_t begin, size_t end, int pos0);

 private:
  // Opens a sequence over already tokenized prompt ids.
  Result<std::unique_ptr<Sequence>> StartTokens(std::vector<llama_token> ids,
                                                const SamplingOptions& sampling);

  LlamaModelOptions options_;
  llama_model* model_;
  llama_context* ctx_;
  const llama_vocab* vocab_;
  int n_vocab_ = 0;
  int n_batch_ = 0;
  std::string template_;  // resolved chat template; empty = plain-text fallback
  std::mutex mutex_;
  std::vector<bool> seq_used_;
};

// Returns log(sum(exp(logits))) and fills the max logit, for log-softmax of one row.
float LogSumExp(const float* logits, int n);

// The last error llama.cpp logged on this thread of work, for error messages.
std::string TakeLastLlamaError();
void InstallLlamaLogger();

}  // namespace specfuse::llama
