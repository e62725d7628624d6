#include "core/candidate_score.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace specfuse {

double RawScore(const std::vector<float>& logprobs, const std::vector<float>& logits,
                ScoreVariant variant) {
  const auto& values = variant == ScoreVariant::kLogit ? logits : logprobs;
  if (values.empty()) return -std::numeric_limits<double>::infinity();
  double sum = 0.0;
  for (float v : values) sum += variant == ScoreVariant::kProb ? std::exp(static_cast<double>(v)) : v;
  return sum / static_cast<double>(values.size());
}

std::vector<double> NormalizeScores(const std::vector<double>& raw, ScoreVariant variant) {
  std::vector<double> out(raw.size(), 0.0);
  double mx = -std::numeric_limits<double>::infinity();
  size_t finite = 0;
  for (double r : raw) {
    if (std::isfinite(r)) {
      mx = std::max(mx, r);
      ++finite;
    }
  }
  if (finite == 0) return out;
  double sum = 0.0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!std::isfinite(raw[i])) continue;
    out[i] = variant == ScoreVariant::kProb ? std::max(raw[i], 0.0) : std::exp(raw[i] - mx);
    sum += out[i];
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!std::isfinite(raw[i])) continue;
    out[i] = sum > 0 ? out[i] / sum : 1.0 / static_cast<double>(finite);
  }
  return out;
}

std::vector<double> CombineScores(const std::vector<std::vector<double>>& normalized,
                                  const std::vector<double>& weights) {
  std::vector<double> combined(normalized.empty() ? 0 : normalized[0].size(), 0.0);
  for (size_t v = 0; v < normalized.size(); ++v) {
    for (size_t c = 0; c < combined.size(); ++c) combined[c] += weights[v] * normalized[v][c];
  }
  return combined;
}

int ArgMax(const std::vector<double>& values) {
  int best = -1;
  for (size_t i = 0; i < values.size(); ++i) {
    if (best < 0 || values[i] > values[best]) best = static_cast<int>(i);
  }
  return best;
}

}  // namespace specfuse
