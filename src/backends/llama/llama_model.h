// LlamaModel: one GGUF model loaded in process, with one llama_context whose unified KV
// cache holds the sequences of several queries plus scratch sequences for scoring.
#pragma once

#include <llama.h>

#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "backends/llama/decode_batcher.h"
#include "core/vector_math.h"
#include "specfuse/llama_backend.h"
#include "specfuse/model.h"

namespace specfuse::llama {

class LlamaModel : public Model, public std::enable_shared_from_this<LlamaModel> {
 public:
  LlamaModel(LlamaModelOptions options, llama_model* model, llama_context* ctx);
  ~LlamaModel() override;

  const std::string& name() const override { return options_.name; }
  int64_t parameter_count() const override { return static_cast<int64_t>(llama_model_n_params(model_)); }
  bool constrains_drafts() const override { return true; }
  Result<std::unique_ptr<Sequence>> Start(const std::vector<ChatMessage>& messages,
                                          const SamplingOptions& sampling) override;
  Result<std::unique_ptr<Sequence>> StartText(const std::string& prompt,
                                              const SamplingOptions& sampling) override;
  Result<TextScore> ScoreText(const std::string& text, int top_n) override;
  DecodeCounters decode_counters() const override;

  // --- used by LlamaSequence ---
  // Guards the context: hold it for KV cache edits and sequence ids, never across Decode.
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

  // Sequence ids, mutex() held: ids [0, max_sequences) for open queries, the rest scratch
  // ids for scoring. AcquireSeq returns -1 when every query id is taken; AcquireScratch
  // takes up to want scratch ids, waiting (through lock) until at least one is free.
  int AcquireSeq();
  std::vector<int> AcquireScratch(std::unique_lock<std::mutex>& lock, int want);
  void ReleaseSeq(int seq);

  // Decodes a job, merged with other queries' concurrent jobs when they fit one
  // micro-batch. Returns llama_decode's code. Do not hold mutex().
  int Decode(DecodeJob& job) { return batcher_->Decode(job); }
  DecodeBatcher& batcher() { return *batcher_; }
  const DecodeBatcher& batcher() const { return *batcher_; }

  // Decodes tokens [begin, end) of ids at positions starting at pos0 into seq, in chunks
  // of n_batch, without outputs. Do not hold mutex().
  Status Prefill(int seq, const std::vector<llama_token>& ids, size_t begin, size_t end, int pos0);
  // The error for a failed llama_decode code, naming the model and what was being done.
  Status DecodeError(int rc, const std::string& what) const;

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
  std::condition_variable scratch_freed_;
  std::unique_ptr<DecodeBatcher> batcher_;
};

// The last error llama.cpp logged on this thread of work, for error messages.
std::string TakeLastLlamaError();
void InstallLlamaLogger();

}  // namespace specfuse::llama
