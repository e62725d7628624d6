#include "core/hedge.h"

#include <cmath>

namespace specfuse {

std::vector<double> HedgeRewards(const std::vector<std::vector<double>>& scores,
                                 const std::vector<int>& candidate_of) {
  const size_t n = candidate_of.size();
  std::vector<double> reward(n, NAN);
  double sum = 0.0;
  int defined = 0;
  for (size_t i = 0; i < n; ++i) {
    if (candidate_of[i] < 0) continue;
    int pairs = 0;
    int wins = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j == i || j >= scores.size() || scores[j].empty()) continue;
      for (size_t k = 0; k < n; ++k) {
        if (k == i || candidate_of[k] < 0) continue;
        ++pairs;
        if (scores[j][candidate_of[i]] >= scores[j][candidate_of[k]]) ++wins;
      }
    }
    if (pairs > 0) {
      reward[i] = static_cast<double>(wins) / pairs;
      sum += reward[i];
      ++defined;
    }
  }
  double mean = defined > 0 ? sum / defined : 0.0;
  for (double& r : reward) {
    if (std::isnan(r)) r = mean;
  }
  return reward;
}

void HedgeUpdate(std::vector<double>* weights, const std::vector<double>& rewards, double eta0,
                 int round) {
  auto& w = *weights;
  if (w.empty() || round < 1) return;
  double eta = eta0 * std::sqrt(1.0 / static_cast<double>(w.size())) / round;
  double total = 0.0;
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] *= std::exp(eta * rewards[i]);
    total += w[i];
  }
  if (total > 0) {
    for (double& x : w) x /= total;
  }
}

}  // namespace specfuse
