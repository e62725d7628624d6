// Reranking whole responses with the ensemble's verifiers (the best-of-n baseline that
// SpecFuse is compared against): every verifier scores every response as a continuation
// of its own chat context, scores are normalized per verifier and combined with uniform
// weights, exactly as the engine scores one round's candidates (DESIGN §2.2-2.3).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "specfuse/ensemble_options.h"
#include "specfuse/model.h"
#include "specfuse/status.h"

namespace specfuse {

struct RerankResult {
  std::vector<std::vector<double>> raw;         // per verifier, per response
  std::vector<std::vector<double>> normalized;  // per verifier, per response; sums to 1
  std::vector<double> combined;                 // per response, uniform weights
  int best = -1;                                // ArgMax(combined); the first on ties
  int model_calls = 0;                          // one batched Score() per verifier
  double wall_ms = 0;
};

// Scores responses (answers to messages) with every verifier: one Model::Start and one
// batched Sequence::Score per verifier, verifiers in parallel. Identical responses are
// scored once; an empty response scores 0 and never wins unless all are empty. Errors:
// no verifiers or no responses (kInvalidArgument), a verifier failing (its error).
// Thread-safe as far as the models are.
Result<RerankResult> RerankResponses(const std::vector<std::shared_ptr<Model>>& verifiers,
                                     const std::vector<ChatMessage>& messages,
                                     const std::vector<std::string>& responses,
                                     ScoreVariant variant);

}  // namespace specfuse
