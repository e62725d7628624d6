#include "backends/llama/decode_batcher.h"

#include <algorithm>
#include <limits>
#include <map>

namespace specfuse::llama {

DecodeBatcher::DecodeBatcher(llama_context* ctx, std::mutex& ctx_mutex, int max_merge, int max_job)
    : ctx_(ctx),
      ctx_mutex_(ctx_mutex),
      max_merge_(max_merge),
      batch_(llama_batch_init(std::max(max_merge, max_job), 0, 1)) {}

DecodeBatcher::~DecodeBatcher() { llama_batch_free(batch_); }

DecodeStats DecodeBatcher::stats() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return stats_;
}

size_t DecodeBatcher::queued() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return pending_.size();
}

bool DecodeBatcher::running() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return running_;
}

int DecodeBatcher::Decode(DecodeJob& job) {
  if (job.tokens.empty()) return 0;
  std::unique_lock<std::mutex> lock(queue_mutex_);
  job.done_ = false;
  pending_.push_back(&job);
  while (!job.done_) {
    if (running_) {
      done_cv_.wait(lock);
      continue;
    }
    // Become the runner: take the queue's head, and whatever else fits one micro-batch.
    running_ = true;
    std::vector<DecodeJob*> take;
    int tokens = 0;
    while (!pending_.empty()) {
      DecodeJob* next = pending_.front();
      if (!take.empty() && tokens + next->size() > max_merge_) break;
      take.push_back(next);
      tokens += next->size();
      pending_.pop_front();
    }
    lock.unlock();
    Run(take);
    lock.lock();
    ++stats_.decodes;
    stats_.jobs += take.size();
    if (take.size() > 1) ++stats_.merged;
    for (DecodeJob* j : take) j->done_ = true;
    running_ = false;
    done_cv_.notify_all();
  }
  return job.rc_;
}

int DecodeBatcher::DecodeJobs(const std::vector<DecodeJob*>& jobs, std::vector<int>& first) {
  batch_.n_tokens = 0;
  first.clear();
  for (DecodeJob* job : jobs) {
    first.push_back(batch_.n_tokens);
    for (int i = 0; i < job->size(); ++i) {
      int k = batch_.n_tokens++;
      batch_.token[k] = job->tokens[i];
      batch_.pos[k] = job->pos[i];
      batch_.n_seq_id[k] = 1;
      batch_.seq_id[k][0] = job->seq[i];
      batch_.logits[k] = job->output[i];
    }
  }
  return llama_decode(ctx_, batch_);
}

void DecodeBatcher::Run(const std::vector<DecodeJob*>& jobs) {
  std::lock_guard<std::mutex> lock(ctx_mutex_);
  std::vector<int> first;
  int rc = DecodeJobs(jobs, first);
  if (rc == 0) {
    for (size_t j = 0; j < jobs.size(); ++j) {
      jobs[j]->rc_ = 0;
      if (jobs[j]->read) jobs[j]->read(ctx_, first[j]);
    }
    return;
  }
  if (jobs.size() == 1) {
    jobs[0]->rc_ = rc;
    return;
  }
  // The merged decode failed (say the KV cache is full): decode each job alone, so that
  // only the ones that cannot fit fail. First drop whatever of them reached the cache.
  llama_memory_t mem = llama_get_memory(ctx_);
  for (DecodeJob* job : jobs) {
    std::map<llama_seq_id, llama_pos> lowest;
    for (int i = 0; i < job->size(); ++i) {
      auto [it, fresh] = lowest.emplace(job->seq[i], job->pos[i]);
      if (!fresh) it->second = std::min(it->second, job->pos[i]);
    }
    for (auto [s, p] : lowest) llama_memory_seq_rm(mem, s, p, -1);
  }
  for (DecodeJob* job : jobs) {
    std::vector<DecodeJob*> one{job};
    job->rc_ = DecodeJobs(one, first);
    if (job->rc_ == 0 && job->read) job->read(ctx_, first[0]);
  }
}

}  // namespace specfuse::llama
