#include "core/model_exit.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace specfuse {

ExitDecision DecideExits(const std::vector<double>& quality, int rounds_done,
                         const ExitOptions& options) {
  ExitDecision d;
  const int n = static_cast<int>(quality.size());
  if (!options.enabled || n <= options.min_active || n < 2 || rounds_done < options.warmup_rounds) {
    return d;
  }
  d.tested = true;
  double mx = *std::max_element(quality.begin(), quality.end());
  d.p.resize(n);
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    d.p[i] = std::exp((quality[i] - mx) / options.temperature);
    sum += d.p[i];
  }
  double h = 0.0;
  for (double& x : d.p) {
    x /= sum;
    if (x > 0) h -= x * std::log(x);
  }
  d.entropy = h / std::log(static_cast<double>(n));
  if (d.entropy >= options.entropy_threshold) return d;

  // Rank by p (stable: earlier members win ties) so the best min_active always stay.
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return d.p[a] > d.p[b]; });
  const double cut = options.epsilon / n;
  for (int r = options.min_active; r < n; ++r) {
    if (d.p[order[r]] < cut) d.exits.push_back(order[r]);
  }
  std::sort(d.exits.begin(), d.exits.end());
  return d;
}

}  // namespace specfuse
