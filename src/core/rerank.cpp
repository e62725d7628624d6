#include "specfuse/rerank.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "core/candidate_score.h"

namespace specfuse {

Result<RerankResult> RerankResponses(const std::vector<std::shared_ptr<Model>>& verifiers,
                                     const std::vector<ChatMessage>& messages,
                                     const std::vector<std::string>& responses,
                                     ScoreVariant variant) {
  if (verifiers.empty()) return Status::Error(ErrorCode::kInvalidArgument, "reranking needs a verifier");
  if (responses.empty()) return Status::Error(ErrorCode::kInvalidArgument, "nothing to rerank");
  const auto t0 = std::chrono::steady_clock::now();

  // Distinct non-empty texts, and which of them each response is.
  std::vector<std::string> distinct;
  std::vector<int> slot(responses.size(), -1);
  for (size_t r = 0; r < responses.size(); ++r) {
    if (responses[r].empty()) continue;
    for (size_t d = 0; d < distinct.size(); ++d) {
      if (distinct[d] == responses[r]) slot[r] = static_cast<int>(d);
    }
    if (slot[r] < 0) {
      slot[r] = static_cast<int>(distinct.size());
      distinct.push_back(responses[r]);
    }
  }

  RerankResult out;
  const size_t nv = verifiers.size();
  out.raw.assign(nv, std::vector<double>(responses.size(), -std::numeric_limits<double>::infinity()));
  std::vector<Status> status(nv);
  if (!distinct.empty()) {
    std::vector<std::thread> threads;
    for (size_t v = 0; v < nv; ++v) {
      threads.emplace_back([&, v] {
        SamplingOptions sampling;
        auto seq = verifiers[v]->Start(messages, sampling);
        if (!seq.ok()) {
          status[v] = seq.status();
          return;
        }
        auto scored = (*seq)->Score(distinct);
        if (!scored.ok()) {
          status[v] = scored.status();
          return;
        }
        for (size_t r = 0; r < responses.size(); ++r) {
          if (slot[r] < 0) continue;
          const CandidateScore& cs = (*scored)[slot[r]];
          out.raw[v][r] = RawScore(cs.logprobs, cs.logits, variant);
        }
      });
    }
    for (auto& t : threads) t.join();
    out.model_calls = static_cast<int>(nv);
  }
  for (size_t v = 0; v < nv; ++v) {
    if (!status[v].ok()) {
      return Status::Error(status[v].code(),
                           "reranking with '" + verifiers[v]->name() + "': " + status[v].message());
    }
  }
  for (const auto& raw : out.raw) out.normalized.push_back(NormalizeScores(raw, variant));
  out.combined = CombineScores(out.normalized, std::vector<double>(nv, 1.0 / static_cast<double>(nv)));
  out.best = ArgMax(out.combined);
  out.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace specfuse
