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

// Index of the largest combined score among the eligible candidates (the first on ties);
// with no eligible candidate, over all of them.
int GatedArgMax(const std::vector<double>& combined, const std::vector<bool>& eligible);

}  // namespace specfuse
