#include "core/anchor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace specfuse {

namespace {

// What makes one verifier more trusted than another: its explicit weight, then its size.
std::pair<double, int64_t> Trust(const Member& m) {
  return {m.weight > 0 ? m.weight : 0.0, m.model ? m.model->parameter_count() : 0};
}

}  // namespace

int AnchorMember(const std::vector<Member>& members) {
  int best = -1;
  bool unique = false;
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].role == MemberRole::kDrafter) continue;
    if (best < 0 || Trust(members[i]) > Trust(members[best])) {
      best = static_cast<int>(i);
      unique = true;
    } else if (Trust(members[i]) == Trust(members[best])) {
      unique = false;
    }
  }
  if (best < 0 || !unique) return -1;
  const auto trust = Trust(members[best]);
  return trust.first > 0 || trust.second > 0 ? best : -1;
}

std::vector<bool> AnchorEligible(const std::vector<double>& anchor_mean_logprob, double margin) {
  double best = -std::numeric_limits<double>::infinity();
  for (double x : anchor_mean_logprob) {
    if (std::isfinite(x) && x > best) best = x;
  }
  std::vector<bool> eligible(anchor_mean_logprob.size(), false);
  for (size_t c = 0; c < eligible.size(); ++c) {
    eligible[c] = std::isfinite(anchor_mean_logprob[c]) && anchor_mean_logprob[c] >= best - margin;
  }
  return eligible;
}

std::vector<bool> AnchorEligible(const std::vector<double>& anchor_mean_logprob,
                                 const std::vector<double>& worst_gap, double margin,
                                 double token_margin) {
  const size_t n = anchor_mean_logprob.size();
  std::vector<bool> passes(n, true);
  if (token_margin >= 0) {
    bool any = false;
    for (size_t c = 0; c < n; ++c) {
      passes[c] = c < worst_gap.size() && worst_gap[c] >= -token_margin;
      any = any || passes[c];
    }
    if (!any) passes.assign(n, true);
  }
  if (margin < 0) return passes;
  std::vector<double> mean(n, -std::numeric_limits<double>::infinity());
  for (size_t c = 0; c < n; ++c) {
    if (passes[c]) mean[c] = anchor_mean_logprob[c];
  }
  std::vector<bool> eligible = AnchorEligible(mean, margin);
  // A candidate the anchor cannot score at all (-infinity) is never eligible by the mean;
  // when that leaves none, the token gate's verdict stands.
  for (bool e : eligible) {
    if (e) return eligible;
  }
  return passes;
}

double WorstTokenGap(const std::vector<float>& logprobs, const std::vector<float>& best_logprobs) {
  double worst = 0.0;
  for (size_t k = 0; k < logprobs.size() && k < best_logprobs.size(); ++k) {
    if (std::isnan(best_logprobs[k])) continue;
    worst = std::min(worst, static_cast<double>(logprobs[k]) - best_logprobs[k]);
  }
  return worst;
}

int GatedArgMax(const std::vector<double>& combined, const std::vector<bool>& eligible) {
  int best = -1;
  bool any = false;
  for (bool e : eligible) any = any || e;
  for (size_t c = 0; c < combined.size(); ++c) {
    if (any && (c >= eligible.size() || !eligible[c])) continue;
    if (best < 0 || combined[c] > combined[best]) best = static_cast<int>(c);
  }
  return best;
}

}  // namespace specfuse
