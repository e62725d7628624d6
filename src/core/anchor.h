// The anchor gate, a guard against a weak member. The anchor is the verifier the ensemble
// trusts most: the largest explicit member weight, else the largest model. A candidate may
// win a round only when the anchor finds it nearly as likely as its own favourite: its mean
// token log-probability under the anchor is at most `margin` nats below the best one's.
// Among those candidates the combined vote decides. Margin 0 lets the anchor choose alone
// (a weak member can then never outvote it); a large margin is no gate at all.
#pragma once

#include <vector>

#include "specfuse/engine.h"

namespace specfuse {

// Index of the anchor among the members that verify, or -1 when none stands out (no
// verifier, or the best two have the same weight and the same known size).
int AnchorMember(const std::vector<Member>& members);

// eligible[c]: candidate c is within margin of the anchor's best mean log-probability.
std::vector<bool> AnchorEligible(const std::vector<double>& anchor_mean_logprob, double margin);

// Both gates. The token gate (token_margin >= 0) admits the candidates none of whose tokens
// is more than token_margin nats below the anchor's favourite token at its position
// (worst_gap[c] >= -token_margin); when it admits none, every candidate stays in. The mean
// gate (margin >= 0) then keeps, of those, the ones within margin of their best mean
// log-probability. With both gates off every candidate is eligible.
std::vector<bool> AnchorEligible(const std::vector<double>& anchor_mean_logprob,
                                 const std::vector<double>& worst_gap, double margin,
                                 double token_margin);

// The most negative logprobs[k] - best_logprobs[k] over a candidate's tokens: 0 when every
// token is the favourite, when there are no tokens, or when the best are not known (empty,
// or NaN for a token).
double WorstTokenGap(const std::vector<float>& logprobs, const std::vector<float>& best_logprobs);

// Index of the largest combined score among the eligible candidates (the first on ties);
// with no eligible candidate, over all of them.
int GatedArgMax(const std::vector<double>& combined, const std::vector<bool>& eligible);

}  // namespace specfuse
