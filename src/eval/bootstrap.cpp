#include "eval/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace specfuse::eval {

Interval BootstrapMean(const std::vector<double>& values, int resamples, double level, uint64_t seed) {
  Interval out;
  const size_t n = values.size();
  if (n == 0 || resamples <= 0) return out;
  double total = 0;
  for (double v : values) total += v;
  out.mean = total / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::vector<double> means(resamples);
  for (int b = 0; b < resamples; ++b) {
    double s = 0;
    for (size_t k = 0; k < n; ++k) s += values[rng() % n];
    means[b] = s / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  const double alpha = 1.0 - level;
  const auto lo = static_cast<size_t>(std::floor(alpha / 2 * resamples));
  const auto hi = static_cast<size_t>(std::max(0.0, std::ceil((1 - alpha / 2) * resamples) - 1));
  out.low = means[std::min(lo, means.size() - 1)];
  out.high = means[std::min(hi, means.size() - 1)];
  return out;
}

}  // namespace specfuse::eval
