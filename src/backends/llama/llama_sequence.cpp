#include "backends/llama/llama_sequence.h"

#include <algorithm>
#include <cmath>

namespace specfuse::llama {

namespace {

llama_sampler* MakeSampler(const SamplingOptions& s) {
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  if (s.temperature <= 0.0f) {
    llama_sampler_chain_add(chain, llama_sampler_init_greedy());
    return chain;
  }
  if (s.top_k > 0) llama_sampler_chain_add(chain, llama_sampler_init_top_k(s.top_k));
  if (s.top_p < 1.0f) llama_sampler_chain_add(chain, llama_sampler_init_top_p(s.top_p, 1));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(s.temperature));
  llama_sampler_chain_add(chain, llama_sampler_init_dist(static_cast<uint32_t>(s.seed)));
  return chain;
}

void AddToken(llama_batch& batch, llama_token id, int pos, int seq, bool logits) {
  int k = batch.n_tokens++;
  batch.token[k] = id;
  batch.pos[k] = pos;
  batch.n_seq_id[k] = 1;
  batch.seq_id[k][0] = seq;
  batch.logits[k] = logits;
}

}  // namespace

LlamaSequence::LlamaSequence(std::shared_ptr<LlamaModel> model, int seq,
                             const SamplingOptions& sampling)
    : model_(std::move(model)), seq_(seq), sampler_(MakeSampler(sampling)) {}

LlamaSequence::~LlamaSequence() {
  std::lock_guard<std::mutex> lock(model_->mutex());
  model_->ReleaseSeq(seq_);
  llama_sampler_free(sampler_);
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

Result<Draft> LlamaSequence::DraftTokens(int max_tokens) {
  std::lock_guard<std::mutex> lock(model_->mutex());
  const int n = static_cast<int>(tokens_.size());
  TrimKv(n - 1);
  draft_ids_.clear();
  max_tokens = std::min(max_tokens, ContextLimit() - n);
  Draft draft;
  if (max_tokens <= 0) return draft;

  llama_context* ctx = model_->ctx();
  llama_batch batch = llama_batch_init(1, 0, 1);
  llama_token next = tokens_.back();
  Status status;
  for (int i = 0; i < max_tokens; ++i) {
    batch.n_tokens = 0;
    AddToken(batch, next, n - 1 + i, seq_, true);
    int rc = llama_decode(ctx, batch);
    if (rc != 0) {
      status = Status::Error(rc == 1 ? ErrorCode::kContextOverflow : ErrorCode::kInternal,
                             "model '" + model_->name() + "': decoding a draft failed (" +
                                 std::to_string(rc) + ")");
      break;
    }
    kv_len_ = n + i;
    const float* logits = llama_get_logits_ith(ctx, -1);
    float log_z = LogSumExp(logits, model_->n_vocab());
    llama_token id = llama_sampler_sample(sampler_, ctx, -1);
    if (model_->IsEndOfGeneration(id)) {
      draft.end_of_generation = true;
      break;
    }
    draft.tokens.push_back({id, model_->Piece(id), logits[id] - log_z, logits[id]});
    draft_ids_.push_back(id);
    next = id;
  }
  llama_batch_free(batch);
  if (!status.ok()) {
    TrimKv(n - 1);
    draft_ids_.clear();
    return status;
  }
  return draft;
}

Result<std::vector<CandidateScore>> LlamaSequence::Score(const std::vector<std::string>& candidates) {
  std::vector<std::vector<llama_token>> ids(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) ids[k] = model_->Tokenize(candidates[k], false);

  std::lock_guard<std::mutex> lock(model_->mutex());
  llama_context* ctx = model_->ctx();
  llama_memory_t mem = llama_get_memory(ctx);
  const int n = static_cast<int>(tokens_.size());
  const int n_batch = model_->n_batch();
  std::vector<CandidateScore> out(candidates.size());

  llama_batch batch = llama_batch_init(n_batch, 0, 1);
  size_t next = 0;
  Status status;
  while (next < candidates.size() && status.ok()) {
    // Group as many candidates as fit one batch and the scratch sequences.
    std::vector<size_t> group;
    std::vector<int> scratch;
    std::vector<int> first_out;  // batch index of each candidate's first output
    batch.n_tokens = 0;
    while (next < candidates.size()) {
      int need = 1 + static_cast<int>(ids[next].size());
      if (need > n_batch) {
        status = Status::Error(ErrorCode::kInvalidArgument,
                               "a candidate of " + std::to_string(need - 1) +
                                   " tokens is longer than one scoring batch");
        break;
      }
      if (batch.n_tokens + need > n_batch) break;
      if (n + need - 1 > ContextLimit()) {
        // No room to score it: it cannot be a continuation here.
        out[next].eog_logprob = -INFINITY;
        out[next].logprobs.assign(ids[next].size(), -INFINITY);
        out[next].logits.assign(ids[next].size(), -INFINITY);
        ++next;
        continue;
      }
      int s = model_->AcquireSeq();
      if (s < 0) break;
      if (n > 1) llama_memory_seq_cp(mem, seq_, s, 0, n - 1);
      scratch.push_back(s);
      group.push_back(next);
      first_out.push_back(batch.n_tokens);
      AddToken(batch, tokens_.back(), n - 1, s, true);
      for (size_t j = 0; j < ids[next].size(); ++j) {
        AddToken(batch, ids[next][j], n + static_cast<int>(j), s, true);
      }
      ++next;
    }
    if (!status.ok() || group.empty()) {
      if (status.ok() && next < candidates.size()) {
        status = Status::Error(ErrorCode::kInternal, "no scratch sequence is free for scoring");
      }
      for (int s : scratch) model_->ReleaseSeq(s);
      break;
    }
    int rc = llama_decode(ctx, batch);
    if (rc != 0) {
      status = Status::Error(rc == 1 ? ErrorCode::kContextOverflow : ErrorCode::kInternal,
                             "model '" + model_->name() + "': scoring failed (" +
                                 std::to_string(rc) + ")");
    } else {
      for (size_t g = 0; g < group.size(); ++g) {
        const auto& cand = ids[group[g]];
        CandidateScore& score = out[group[g]];
        for (size_t j = 0; j <= cand.size(); ++j) {
          const float* logits = llama_get_logits_ith(ctx, first_out[g] + static_cast<int>(j));
          float log_z = LogSumExp(logits, model_->n_vocab());
          if (j < cand.size()) {
            score.logprobs.push_back(logits[cand[j]] - log_z);
            score.logits.push_back(logits[cand[j]]);
          } else {
            score.eog_logprob = model_->EndOfGenerationLogprob(logits, log_z);
          }
        }
      }
    }
    for (int s : scratch) model_->ReleaseSeq(s);
  }
  llama_batch_free(batch);
  if (!status.ok()) return status;
  return out;
}

Status LlamaSequence::Accept(const std::string& text) {
  std::lock_guard<std::mutex> lock(model_->mutex());
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
  // Decoded draft tokens sit at positions n.. (the pending token at n-1 was decoded too).
  // The new last token stays pending, so at most positions [0, last) are kept.
  int decoded_draft = std::max(0, kv_len_ - n);
  int last = n + static_cast<int>(added.size()) - 1;
  int keep = kv_len_ >= n ? n + std::min<int>(static_cast<int>(matched), decoded_draft) : n - 1;
  keep = std::min(keep, last);
  TrimKv(keep);
  draft_ids_.clear();
  tokens_.insert(tokens_.end(), added.begin(), added.end());
  Status s = model_->Prefill(seq_, tokens_, keep, last, keep);
  kv_len_ = s.ok() ? last : keep;
  if (!s.ok()) {
    // Leave the sequence consistent: drop what did not make it into the cache.
    tokens_.resize(n);
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
  std::lock_guard<std::mutex> lock(model_->mutex());
  const int n = static_cast<int>(tokens_.size());
  int common = 0;
  int limit = std::min({n - 1, static_cast<int>(ids.size()) - 1, kv_len_});
  while (common < limit && tokens_[common] == ids[common]) ++common;
  TrimKv(common);
  draft_ids_.clear();
  tokens_ = std::move(ids);
  int last = static_cast<int>(tokens_.size()) - 1;
  Status s = model_->Prefill(seq_, tokens_, common, last, common);
  kv_len_ = s.ok() ? last : common;
  return s;
}

}  // namespace specfuse::llama
