#include "backends/llama/llama_sequence.h"

#include <algorithm>
#include <cmath>

namespace specfuse::llama {

LlamaSequence::LlamaSequence(std::shared_ptr<LlamaModel> model, int seq,
                             const SamplingOptions& sampling,
                             std::unique_ptr<GrammarConstraint> grammar)
    : model_(std::move(model)),
      seq_(seq),
      sampler_(sampling.temperature, sampling.top_p, sampling.top_k, sampling.seed),
      grammar_(std::move(grammar)) {}

LlamaSequence::~LlamaSequence() {
  std::lock_guard<std::mutex> lock(model_->mutex());
  model_->ReleaseSeq(seq_);
}

void LlamaSequence::TrimKv(int pos) {
  if (kv_len_ > pos) {
    llama_memory_seq_rm(llama_get_memory(model_->ctx()), seq_, pos, -1);
    kv_len_ = pos;
  }
}

Status LlamaSequence::PrefillPrompt(std::vector<llama_token> ids) {
  tokens_ = std::move(ids);
  int n = static_cast<int>(tokens_.size());
  Status s = model_->Prefill(seq_, tokens_, 0, n - 1, 0);
  if (s.ok()) kv_len_ = n - 1;
  return s;
}

int LlamaSequence::CountTokens(const std::string& text) const {
  return static_cast<int>(model_->Tokenize(text, false).size());
}

// Sampling first and checking the one token is what llama.cpp's own sampler does: the full
// mask costs a pass over the vocabulary through the grammar, needed only when the model's
// choice does not fit. Greedy decoding picks the same token either way.
Result<llama_token> LlamaSequence::SampleNext() {
  const int n_vocab = model_->n_vocab();
  llama_token id = sampler_.Sample(row_.data(), n_vocab);
  if (!grammar_ || grammar_->Allows(id)) return id;
  masked_.assign(row_.begin(), row_.end());
  if (!grammar_->Mask(masked_.data(), n_vocab)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "the answer's grammar (response_format or tools) allows no token here: no "
                         "JSON text satisfies the schema from this point (a minimum above its "
                         "maximum, a minLength above its maxLength, ...)");
  }
  return sampler_.Sample(masked_.data(), n_vocab);
}

Result<Draft> LlamaSequence::DraftTokens(int max_tokens) {
  const int n = static_cast<int>(tokens_.size());
  {
    std::lock_guard<std::mutex> lock(model_->mutex());
    TrimKv(n - 1);
  }
  draft_ids_.clear();
  max_tokens = std::min(max_tokens, ContextLimit() - n);
  Draft draft;
  if (max_tokens <= 0) return draft;

  // Each step decodes one token (possibly in one forward pass with other queries' steps),
  // copies its logits row out, and samples here, off the context's lock.
  struct Drafting {
    DecodeBatcher& b;
    explicit Drafting(DecodeBatcher& batcher) : b(batcher) { b.BeginDrafting(); }
    ~Drafting() { b.EndDrafting(); }
  } drafting(model_->batcher());
  const int n_vocab = model_->n_vocab();
  row_.resize(n_vocab);
  DecodeJob job;
  job.read = [this, n_vocab](const float* rows) { std::copy(rows, rows + n_vocab, row_.begin()); };
  llama_token next = tokens_.back();
  if (grammar_) grammar_->BeginDraft();
  Status status;
  for (int i = 0; i < max_tokens; ++i) {
    job.Clear();
    job.Add(next, n - 1 + i, seq_, true);
    int rc = model_->Decode(job);
    if (rc != 0) {
      status = model_->DecodeError(rc, "decoding a draft");
      break;
    }
    kv_len_ = n + i;
    Result<llama_token> sampled = SampleNext();
    if (!sampled.ok()) {
      status = sampled.status();
      break;
    }
    llama_token id = *sampled;
    if (model_->IsEndOfGeneration(id)) {
      draft.end_of_generation = true;
      break;
    }
    float best;
    float log_z = LogSumExp(row_.data(), n_vocab, &best);
    draft.tokens.push_back({id, model_->Piece(id), row_[id] - log_z, row_[id], best - log_z});
    draft_ids_.push_back(id);
    if (grammar_) grammar_->AdvanceDraft(id);
    next = id;
  }
  if (!status.ok()) {
    std::lock_guard<std::mutex> lock(model_->mutex());
    TrimKv(n - 1);
    draft_ids_.clear();
    return status;
  }
  return draft;
}

Result<std::vector<CandidateScore>> LlamaSequence::Score(const std::vector<std::string>& candidates) {
  std::vector<std::vector<llama_token>> ids(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) ids[k] = model_->Tokenize(candidates[k], false);

  const int n = static_cast<int>(tokens_.size());
  const int n_batch = model_->n_batch();
  std::vector<CandidateScore> out(candidates.size());

  // Candidates that fit the context, each checked against one scoring batch.
  std::vector<size_t> todo;
  for (size_t k = 0; k < candidates.size(); ++k) {
    int need = 1 + static_cast<int>(ids[k].size());
    if (need > n_batch) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           "a candidate of " + std::to_string(need - 1) +
                               " tokens is longer than one scoring batch");
    }
    if (n + need - 1 > ContextLimit()) {
      // No room to score it: it cannot be a continuation here.
      out[k].eog_logprob = -INFINITY;
      out[k].logprobs.assign(ids[k].size(), -INFINITY);
      out[k].logits.assign(ids[k].size(), -INFINITY);
      continue;
    }
    todo.push_back(k);
  }

  DecodeJob job;
  std::vector<size_t> group;
  std::vector<int> offset;  // row of each grouped candidate's first output within the job
  const size_t n_vocab = static_cast<size_t>(model_->n_vocab());
  job.read = [&](const float* rows) {
    for (size_t g = 0; g < group.size(); ++g) {
      const auto& cand = ids[group[g]];
      CandidateScore& score = out[group[g]];
      for (size_t j = 0; j <= cand.size(); ++j) {
        const float* logits = rows + (offset[g] + j) * n_vocab;
        float best;
        float log_z = LogSumExp(logits, n_vocab, &best);
        if (j < cand.size()) {
          score.logprobs.push_back(logits[cand[j]] - log_z);
          score.logits.push_back(logits[cand[j]]);
          score.best_logprobs.push_back(best - log_z);
        } else {
          score.eog_logprob = model_->EndOfGenerationLogprob(logits, log_z);
        }
      }
    }
  };
  size_t next = 0;
  while (next < todo.size()) {
    // Copy the query's prefix to as many scratch sequences as the next candidates need
    // and one batch holds; then decode them all at once.
    std::vector<int> scratch;
    {
      std::unique_lock<std::mutex> lock(model_->mutex());
      int tokens = 0;
      int want = 0;
      for (size_t k = next; k < todo.size(); ++k, ++want) {
        tokens += 1 + static_cast<int>(ids[todo[k]].size());
        if (tokens > n_batch) break;
      }
      scratch = model_->AcquireScratch(lock, want);
      llama_memory_t mem = llama_get_memory(model_->ctx());
      for (int s : scratch) {
        if (n > 1) llama_memory_seq_cp(mem, seq_, s, 0, n - 1);
      }
    }
    job.Clear();
    group.clear();
    offset.clear();
    for (int s : scratch) {
      size_t k = todo[next++];
      group.push_back(k);
      offset.push_back(job.size());
      job.Add(tokens_.back(), n - 1, s, true);
      for (size_t j = 0; j < ids[k].size(); ++j) {
        job.Add(ids[k][j], n + static_cast<int>(j), s, true);
      }
    }
    int rc = model_->Decode(job);
    {
      std::lock_guard<std::mutex> lock(model_->mutex());
      for (int s : scratch) model_->ReleaseSeq(s);
    }
    if (rc != 0) return model_->DecodeError(rc, "scoring");
  }
  return out;
}

Status LlamaSequence::Accept(const std::string& text) {
  const int n = static_cast<int>(tokens_.size());
  // Reuse the longest run of drafted tokens that spells a prefix of text.
  size_t matched = 0;
  size_t consumed = 0;
  for (llama_token id : draft_ids_) {
    std::string piece = model_->Piece(id);
    if (piece.empty() || text.compare(consumed, piece.size(), piece) != 0) break;
    consumed += piece.size();
    ++matched;
  }
  std::vector<llama_token> added(draft_ids_.begin(), draft_ids_.begin() + matched);
  if (consumed < text.size()) {
    std::vector<llama_token> rest = model_->Tokenize(text.substr(consumed), false);
    added.insert(added.end(), rest.begin(), rest.end());
  }
  if (added.empty()) return Status::Ok();
  if (n + static_cast<int>(added.size()) > ContextLimit()) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "model '" + model_->name() + "': the answer no longer fits its context of " +
                             std::to_string(ContextLimit()) + " tokens");
  }
  if (grammar_) {
    // Another tokenizer's segment must spell text this model's tokens can follow too.
    Status fits = grammar_->Stage(added);
    if (!fits.ok()) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           "model '" + model_->name() + "' cannot take the accepted segment \"" +
                               text + "\" under the answer's grammar (response_format or tools): " +
                               fits.message());
    }
  }
  // Decoded draft tokens sit at positions n.. (the pending token at n-1 was decoded too).
  // The new last token stays pending, so at most positions [0, last) are kept.
  int decoded_draft = std::max(0, kv_len_ - n);
  int last = n + static_cast<int>(added.size()) - 1;
  int keep = kv_len_ >= n ? n + std::min<int>(static_cast<int>(matched), decoded_draft) : n - 1;
  keep = std::min(keep, last);
  {
    std::lock_guard<std::mutex> lock(model_->mutex());
    TrimKv(keep);
  }
  draft_ids_.clear();
  tokens_.insert(tokens_.end(), added.begin(), added.end());
  Status s = model_->Prefill(seq_, tokens_, keep, last, keep);
  kv_len_ = s.ok() ? last : keep;
  if (s.ok() && grammar_) grammar_->Commit();
  if (!s.ok()) {
    // Leave the sequence consistent: drop what did not make it into the cache.
    tokens_.resize(n);
    std::lock_guard<std::mutex> lock(model_->mutex());
    llama_memory_seq_rm(llama_get_memory(model_->ctx()), seq_, n - 1, -1);
    kv_len_ = n - 1;
  }
  return s;
}

Status LlamaSequence::Sync(const std::vector<ChatMessage>& messages) {
  auto prompt = model_->RenderChat(messages);
  if (!prompt.ok()) return prompt.status();
  std::vector<llama_token> ids = model_->Tokenize(*prompt, true);
  if (static_cast<int>(ids.size()) >= ContextLimit()) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "the conversation is " + std::to_string(ids.size()) +
                             " tokens for model '" + model_->name() + "', which holds " +
                             std::to_string(ContextLimit()) + "; start a new one");
  }
  const int n = static_cast<int>(tokens_.size());
  int common = 0;
  int limit = std::min({n - 1, static_cast<int>(ids.size()) - 1, kv_len_});
  while (common < limit && tokens_[common] == ids[common]) ++common;
  {
    std::lock_guard<std::mutex> lock(model_->mutex());
    TrimKv(common);
  }
  draft_ids_.clear();
  tokens_ = std::move(ids);
  if (grammar_) grammar_->Reset();  // a new turn: its answer starts the grammar afresh
  int last = static_cast<int>(tokens_.size()) - 1;
  Status s = model_->Prefill(seq_, tokens_, common, last, common);
  kv_len_ = s.ok() ? last : common;
  return s;
}

}  // namespace specfuse::llama
