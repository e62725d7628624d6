// DecodeBatcher: lets the queries that share one llama_context decode together.
//
// Each query's thread hands its decode (a few tokens of its own sequences) to Decode().
// Whichever thread finds the context idle becomes the runner: it takes every job queued
// so far, up to one micro-batch of tokens, and decodes them with one llama_decode call.
// Then every job's own thread reads its logits rows at once (copying a row, or a
// log-sum-exp over 150k entries per row when scoring), and the context is free for the
// next decode only when all have read. A lone query therefore runs its decodes as before,
// while N concurrent queries drafting one token each share one forward pass instead of N.
#pragma once

#include <llama.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "specfuse/model.h"

namespace specfuse::llama {

struct Batch;

// Tokens for one decode of one query, and what to read from the logits afterwards.
struct DecodeJob {
  std::vector<llama_token> tokens;
  std::vector<llama_pos> pos;
  std::vector<llama_seq_id> seq;
  std::vector<int8_t> output;  // 1 where the caller reads the logits row
  // Runs after a successful decode, on the job's own thread (the context is held for it):
  // rows points at the logits of the job's output tokens, in order, n_vocab floats each.
  // May be empty.
  std::function<void(const float* rows)> read;

  void Clear() {
    tokens.clear();
    pos.clear();
    seq.clear();
    output.clear();
  }
  void Add(llama_token id, llama_pos p, llama_seq_id s, bool out) {
    tokens.push_back(id);
    pos.push_back(p);
    seq.push_back(s);
    output.push_back(out ? 1 : 0);
  }
  int size() const { return static_cast<int>(tokens.size()); }

 private:
  friend class DecodeBatcher;
  enum class State { kQueued, kReadable, kDone };
  State state_ = State::kQueued;
  int rc_ = 0;
  const float* rows_ = nullptr;
  struct Batch* batch_ = nullptr;
};


class DecodeBatcher {
 public:
  // ctx_mutex guards every use of ctx; max_merge caps the tokens of a merged decode (one
  // micro-batch); a single job may be up to max_job tokens; rows have n_vocab logits.
  DecodeBatcher(llama_context* ctx, std::mutex& ctx_mutex, int max_merge, int max_job, int n_vocab,
                int wait_us = 0);
  ~DecodeBatcher();
  DecodeBatcher(const DecodeBatcher&) = delete;
  DecodeBatcher& operator=(const DecodeBatcher&) = delete;

  // Decodes job, possibly in one call with other threads' jobs, and returns llama_decode's
  // code for it (0 = done, and job.read has run). The caller must not hold ctx_mutex.
  int Decode(DecodeJob& job);

  // A query starts or ends a run of one-token decodes (drafting). While more than one
  // query drafts, a runner that has fewer jobs than drafters waits up to wait_us for the
  // others' next tokens, so that they share the pass.
  void BeginDrafting();
  void EndDrafting();

  // Passes run, jobs served, passes shared (the counters of /metrics).
  DecodeCounters counters() const;
  // Jobs waiting for a runner, and whether a decode is under way (for tests).
  size_t queued() const;
  bool running() const;

 private:
  // Runner: decodes jobs under the context's mutex, has their owners read, and returns
  // when all have.
  void Run(std::vector<DecodeJob*>& jobs, DecodeJob& own, std::unique_lock<std::mutex>& queue);
  int DecodeJobs(const std::vector<DecodeJob*>& jobs);
  // Where each job's output rows start in the context's logits, in batch order.
  void PointRows(const std::vector<DecodeJob*>& jobs);

  llama_context* ctx_;
  std::mutex& ctx_mutex_;
  const int max_merge_;
  const int n_vocab_;
  llama_batch batch_;

  mutable std::mutex queue_mutex_;
  std::condition_variable done_cv_;  // job states and running_ changed
  std::deque<DecodeJob*> pending_;
  bool running_ = false;
  int drafting_ = 0;
  bool queue_wait_ = false;  // a runner is waiting for more jobs
  const int wait_us_;
  DecodeCounters counters_;
};

}  // namespace specfuse::llama
