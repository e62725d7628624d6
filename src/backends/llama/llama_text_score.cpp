// LlamaModel::ScoreText: the log-probability of every token of a text, read in one pass
// on a scratch sequence (OpenAI/vLLM `echo` + `logprobs`).
#include <algorithm>
#include <cmath>

#include "backends/llama/llama_model.h"

namespace specfuse::llama {

Result<TextScore> LlamaModel::ScoreText(const std::string& text, int top_n) {
  if (top_n < 0 || top_n > 20) {
    return Status::Error(ErrorCode::kInvalidArgument, "logprobs must be between 0 and 20");
  }
  std::vector<llama_token> ids = Tokenize(text, true);
  if (ids.empty()) return Status::Error(ErrorCode::kInvalidArgument, "the text is empty");
  if (static_cast<int>(ids.size()) > options_.context_size) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "the text is " + std::to_string(ids.size()) + " tokens for model '" +
                             name() + "', which holds " + std::to_string(options_.context_size));
  }
  TextScore out;
  size_t offset = 0;
  // Control tokens written in the text (a chat template's <|im_start|>) keep their text,
  // so that pieces spell the input and offsets index into it; a BOS the tokenizer added
  // is not in the input and has no text.
  const bool added_bos = llama_vocab_get_add_bos(vocab_) && ids[0] == llama_vocab_bos(vocab_) &&
                         text.compare(0, Piece(ids[0], true).size(), Piece(ids[0], true)) != 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    llama_token id = ids[i];
    std::string piece = i == 0 && added_bos ? std::string() : Piece(id, true);
    out.offsets.push_back(offset);
    offset += piece.size();
    out.tokens.push_back({id, std::move(piece), NAN, NAN});
  }
  out.top.resize(ids.size());

  int seq;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    seq = AcquireSeq();
  }
  if (seq < 0) {
    return Status::Error(ErrorCode::kUnavailable, "model '" + name() + "' has no free sequence");
  }
  Status status;
  std::vector<int> order(n_vocab_);
  DecodeJob job;
  size_t at = 0;
  size_t stop = 0;
  job.read = [&](const float* rows) {
    // Row i predicts token i + 1.
    size_t row = 0;
    for (size_t i = at; i < stop && i + 1 < ids.size(); ++i, ++row) {
      const float* logits = rows + row * static_cast<size_t>(n_vocab_);
      float log_z = LogSumExp(logits, n_vocab_);
      TokenInfo& next = out.tokens[i + 1];
      next.logprob = logits[next.id] - log_z;
      next.logit = logits[next.id];
      if (top_n > 0) {
        for (int v = 0; v < n_vocab_; ++v) order[v] = v;
        std::partial_sort(order.begin(), order.begin() + top_n, order.end(),
                          [&](int a, int b) { return logits[a] > logits[b]; });
        for (int k = 0; k < top_n; ++k) {
          out.top[i + 1].push_back({Piece(order[k], true), logits[order[k]] - log_z});
        }
      }
    }
  };
  for (at = 0; at < ids.size(); at += n_batch_) {
    stop = std::min(ids.size(), at + static_cast<size_t>(n_batch_));
    job.Clear();
    for (size_t i = at; i < stop; ++i) job.Add(ids[i], static_cast<int>(i), seq, i + 1 < ids.size());
    if (Decode(job) != 0) {
      status = Status::Error(ErrorCode::kInternal, "model '" + name() + "': scoring the text failed");
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ReleaseSeq(seq);
  }
  if (!status.ok()) return status;
  return out;
}

}  // namespace specfuse::llama
