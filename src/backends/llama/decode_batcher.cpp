#include "backends/llama/decode_batcher.h"

#include <algorithm>
#include <chrono>
#include <map>

namespace specfuse::llama {

// The jobs of one decode whose owners have not read yet.
struct Batch {
  size_t unread = 0;
};

DecodeBatcher::DecodeBatcher(llama_context* ctx, std::mutex& ctx_mutex, int max_merge, int max_job,
                             int n_vocab, int wait_us)
    : ctx_(ctx),
      ctx_mutex_(ctx_mutex),
      max_merge_(max_merge),
      n_vocab_(n_vocab),
      batch_(llama_batch_init(std::max(max_merge, max_job), 0, 1)),
      wait_us_(wait_us) {}

void DecodeBatcher::BeginDrafting() {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  ++drafting_;
}

void DecodeBatcher::EndDrafting() {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  --drafting_;
  done_cv_.notify_all();  // a runner waiting for this drafter's next token stops waiting
}

DecodeBatcher::~DecodeBatcher() { llama_batch_free(batch_); }

DecodeCounters DecodeBatcher::counters() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return counters_;
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
  job.state_ = DecodeJob::State::kQueued;
  job.rc_ = 0;
  pending_.push_back(&job);
  if (queue_wait_) done_cv_.notify_all();  // the runner is gathering jobs
  for (;;) {
    if (job.state_ == DecodeJob::State::kDone) return job.rc_;
    if (job.state_ == DecodeJob::State::kReadable) {
      // Another thread ran the decode; read this job's rows while it holds the context.
      lock.unlock();
      if (job.read) job.read(job.rows_);
      lock.lock();
      job.state_ = DecodeJob::State::kDone;
      --job.batch_->unread;
      done_cv_.notify_all();
      return job.rc_;
    }
    if (running_) {
      done_cv_.wait(lock);
      continue;
    }
    // Become the runner: take the queue's head, and whatever else fits one micro-batch.
    running_ = true;
    if (wait_us_ > 0 && drafting_ > 1 && static_cast<int>(pending_.size()) < drafting_) {
      // Other drafters are between two tokens (sampling): give them a moment to queue.
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(wait_us_);
      queue_wait_ = true;
      done_cv_.wait_until(lock, until, [this] {
        return static_cast<int>(pending_.size()) >= drafting_;
      });
      queue_wait_ = false;
    }
    std::vector<DecodeJob*> take;
    int tokens = 0;
    while (!pending_.empty()) {
      DecodeJob* next = pending_.front();
      if (!take.empty() && tokens + next->size() > max_merge_) break;
      take.push_back(next);
      tokens += next->size();
      pending_.pop_front();
    }
    ++counters_.decodes;
    counters_.jobs += take.size();
    if (take.size() > 1) ++counters_.merged;
    Run(take, job, lock);
    running_ = false;
    done_cv_.notify_all();
  }
}

int DecodeBatcher::DecodeJobs(const std::vector<DecodeJob*>& jobs) {
  batch_.n_tokens = 0;
  for (DecodeJob* job : jobs) {
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

void DecodeBatcher::PointRows(const std::vector<DecodeJob*>& jobs) {
  // llama_get_logits returns the output rows in batch order, one per token with output.
  const float* base = llama_get_logits(ctx_);
  size_t row = 0;
  for (DecodeJob* job : jobs) {
    job->rows_ = base + row * static_cast<size_t>(n_vocab_);
    for (int8_t out : job->output) row += out ? 1 : 0;
  }
}

void DecodeBatcher::Run(std::vector<DecodeJob*>& jobs, DecodeJob& own,
                        std::unique_lock<std::mutex>& queue) {
  queue.unlock();
  std::unique_lock<std::mutex> ctx(ctx_mutex_);
  int rc = DecodeJobs(jobs);
  if (rc == 0) {
    PointRows(jobs);
    Batch batch;
    queue.lock();
    for (DecodeJob* job : jobs) {
      job->rc_ = 0;
      job->batch_ = &batch;
      if (job == &own) continue;
      job->state_ = DecodeJob::State::kReadable;
      ++batch.unread;
    }
    done_cv_.notify_all();
    queue.unlock();
    // The runner reads its own rows (if its job is in this batch) while the others read theirs.
    bool mine = std::find(jobs.begin(), jobs.end(), &own) != jobs.end();
    if (mine && own.read) own.read(own.rows_);
    queue.lock();
    if (mine) own.state_ = DecodeJob::State::kDone;
    while (batch.unread > 0) done_cv_.wait(queue);
    return;  // the context is released with ctx, after every job has read
  }
  if (jobs.size() > 1) {
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
      job->rc_ = DecodeJobs(one);
      if (job->rc_ == 0) {
        PointRows(one);
        if (job->read) job->read(job->rows_);
      }
    }
  } else {
    jobs[0]->rc_ = rc;
  }
  queue.lock();
  for (DecodeJob* job : jobs) job->state_ = DecodeJob::State::kDone;
}

}  // namespace specfuse::llama
