// DecodeBatcher: lets the queries that share one llama_context decode together.
//
// Each query's thread hands its decode (a few tokens of its own sequences) to Decode().
// Whichever thread finds the context idle becomes the runner: it takes every job queued
// so far, up to one micro-batch of tokens, decodes them with one llama_decode call, lets
// each job read its logits rows, and wakes the others. A lone query therefore runs its
// decodes exactly as before, while N concurrent queries drafting one token each share
// one forward pass instead of N: on a GPU that is nearly N times the throughput.
#pragma once

#include <llama.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

namespace specfuse::llama {

// Tokens for one decode of one query, and what to read from the logits afterwards.
struct DecodeJob {
  std::vector<llama_token> tokens;
  std::vector<llama_pos> pos;
  std::vector<llama_seq_id> seq;
  std::vector<int8_t> output;  // 1 where the caller reads the logits row
  // Runs after a successful decode, on the runner's thread with the context's mutex held;
  // row i of this job is llama_get_logits_ith(ctx, first + i). May be empty.
  std::function<void(llama_context* ctx, int first)> read;

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
  int rc_ = 0;
  bool done_ = false;
};

// Counters for benchmarks and tests.
struct DecodeStats {
  uint64_t decodes = 0;  // llama_decode calls
  uint64_t jobs = 0;     // jobs served
  uint64_t merged = 0;   // decodes that carried more than one job
};

class DecodeBatcher {
 public:
  // ctx_mutex guards every use of ctx; max_merge caps the tokens of a merged decode (one
  // micro-batch); a single job may be up to max_job tokens.
  DecodeBatcher(llama_context* ctx, std::mutex& ctx_mutex, int max_merge, int max_job);
  ~DecodeBatcher();
  DecodeBatcher(const DecodeBatcher&) = delete;
  DecodeBatcher& operator=(const DecodeBatcher&) = delete;

  // Decodes job, possibly in one call with other threads' jobs, and returns llama_decode's
  // code for it (0 = done, and job.read has run). The caller must not hold ctx_mutex.
  int Decode(DecodeJob& job);

  DecodeStats stats() const;
  // Jobs waiting for a runner, and whether a decode is under way (for tests).
  size_t queued() const;
  bool running() const;

 private:
  // Decodes jobs under the context's mutex; fills each job's code.
  void Run(const std::vector<DecodeJob*>& jobs);
  int DecodeJobs(const std::vector<DecodeJob*>& jobs, std::vector<int>& first);

  llama_context* ctx_;
  std::mutex& ctx_mutex_;
  const int max_merge_;
  llama_batch batch_;

  mutable std::mutex queue_mutex_;
  std::condition_variable done_cv_;
  std::deque<DecodeJob*> pending_;
  bool running_ = false;
  DecodeStats stats_;
};

}  // namespace specfuse::llama
