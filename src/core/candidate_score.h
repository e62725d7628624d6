// Turning verifiers' token log-probabilities into normalized candidate scores and
// combining them across verifiers (DESIGN §2.2-2.3).
#pragma once

#include <vector>

#include "specfuse/ensemble_options.h"
#include "specfuse/model.h"

namespace specfuse {

// A candidate's raw score under one verifier: the mean over its tokens of the token
// probability, log-probability or logit. An empty candidate scores -infinity.
double RawScore(const std::vector<float>& logprobs, const std::vector<float>& logits,
                ScoreVariant variant);

// Normalizes one verifier's raw scores across candidates so they sum to 1. Probabilities
// are divided by their sum; log-probabilities and logits, which may be negative, go
// through a softmax. Candidates scoring -infinity get 0; when nothing is positive the
// scores are uniform over the finite ones.
std::vector<double> NormalizeScores(const std::vector<double>& raw, ScoreVariant variant);

// combined[c] = sum over verifiers v of weights[v] * normalized[v][c].
std::vector<double> CombineScores(const std::vector<std::vector<double>>& normalized,
                                  const std::vector<double>& weights);

// Index of the largest value; the first one on ties.
int ArgMax(const std::vector<double>& values);

}  // namespace specfuse
