// SpecEM's online verifier weights (Hedge, multiplicative weights), DESIGN §2.3.
#pragma once

#include <vector>

namespace specfuse {

// Per-model reward of one round. scores[j][c] is model j's normalized score of candidate
// c (an empty row: j did not verify); candidate_of[i] is the candidate model i drafted,
// or -1. reward_i = fraction of (verifier j != i, rival k != i) pairs in which j scores
// i's candidate at least as high as k's. A model with no candidate or no such pair gets
// the mean of the others' rewards, so its weight moves with the crowd.
std::vector<double> HedgeRewards(const std::vector<std::vector<double>>& scores,
                                 const std::vector<int>& candidate_of);

// w_i <- w_i * exp(eta_t * reward_i), eta_t = eta0 * sqrt(1/K) / t, then renormalized to
// sum 1. round is t, counted from 1; K is the number of weights.
void HedgeUpdate(std::vector<double>* weights, const std::vector<double>& rewards, double eta0,
                 int round);

}  // namespace specfuse
