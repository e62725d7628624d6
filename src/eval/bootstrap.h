// Percentile bootstrap confidence intervals for a mean, deterministic under a seed.
#pragma once

#include <cstdint>
#include <vector>

namespace specfuse::eval {

struct Interval {
  double mean = 0;
  double low = 0;
  double high = 0;
};

// The sample mean and its percentile bootstrap interval: `resamples` resamples of the
// same size drawn with replacement (std::mt19937_64 seeded with seed, index = draw % n,
// so the numbers are the same on every platform); low and high are the sorted resample
// means at floor(alpha/2 * B) and ceil((1 - alpha/2) * B) - 1 with alpha = 1 - level.
// An empty sample gives all zeros. For a paired comparison pass the per-item differences.
Interval BootstrapMean(const std::vector<double>& values, int resamples = 1000, double level = 0.95,
                       uint64_t seed = 20241210);

}  // namespace specfuse::eval
