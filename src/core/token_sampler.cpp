#include "core/token_sampler.h"

#include <algorithm>
#include <cstring>

#include "core/vector_math.h"

namespace specfuse {

TokenSampler::TokenSampler(float temperature, float top_p, int top_k, uint64_t seed)
    : temperature_(temperature), top_p_(top_p), top_k_(top_k), rng_(seed) {}

int32_t TokenSampler::Sample(const float* logits, int n) {
  if (n <= 0) return -1;
  if (temperature_ <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
  }
  // w[i] = e^((logit - max) / T): the tempered distribution, unnormalized, max weight 1.
  weights_.resize(n);
  const float mx = MaxOf(logits, n);
  const double total = ExpShifted(logits, n, mx, 1.0f / temperature_, weights_.data());
  const float* w = weights_.data();
  auto heavier = [w](int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); };

  // The candidates: every token whose weight reaches a threshold, the threshold lowered
  // until they include the top_k heaviest (with top-k) or hold the top-p mass (without);
  // either way what is sampled from is a prefix of them once sorted.
  const int k = top_k_ > 0 ? std::min(top_k_, n) : n;
  if (k == n && top_p_ >= 1.0f) {
    // No truncation: draw from the whole row.
    const double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
    double cum = 0.0;
    for (int32_t i = 0; i < n; ++i) {
      cum += w[i];
      if (u < cum) return i;
    }
    return static_cast<int32_t>(std::max_element(w, w + n) - w);
  }
  const double need = (top_p_ < 1.0f ? top_p_ : 1.0) * total;
  for (float cut = 1e-4f;; cut *= 1e-3f) {
    kept_.clear();
    double held = 0.0;
    if (cut < 1e-30f) {
      for (int32_t i = 0; i < n; ++i) kept_.push_back(i);
      held = total;
    } else {
      for (int32_t i = 0; i < n; ++i) {
        if (w[i] >= cut) {
          kept_.push_back(i);
          held += w[i];
        }
      }
    }
    if (held >= total) break;
    if (k < n ? static_cast<int>(kept_.size()) >= k : held >= need) break;
  }
  if (static_cast<int>(kept_.size()) > k) {
    std::nth_element(kept_.begin(), kept_.begin() + k, kept_.end(), heavier);
    kept_.resize(k);
  }
  double mass = 0.0;
  for (int32_t id : kept_) mass += w[id];
  const double target = top_p_ * (k < n ? mass : total);
  if (top_p_ < 1.0f && kept_.size() > 2048) {
    // A flat row leaves many candidates: rather than sort them all, bin them by the top
    // bits of their weight (order-preserving for positive floats), keep whole the bins
    // above the one where the mass crosses top_p, and sort only that bin.
    bin_mass_.assign(1 << 14, 0.0);
    auto bin = [w](int32_t id) {
      uint32_t bits;
      std::memcpy(&bits, &w[id], sizeof bits);
      return std::min<uint32_t>(bits >> 16, (1u << 14) - 1);
    };
    for (int32_t id : kept_) bin_mass_[bin(id)] += w[id];
    double above = 0.0;
    uint32_t edge = (1u << 14) - 1;
    for (;; --edge) {
      if (above + bin_mass_[edge] >= target || edge == 0) break;
      above += bin_mass_[edge];
    }
    std::vector<int32_t> heavy, border;
    for (int32_t id : kept_) {
      uint32_t b = bin(id);
      if (b > edge) heavy.push_back(id);
      else if (b == edge) border.push_back(id);
    }
    std::sort(border.begin(), border.end(), heavier);
    double cum = above;
    for (int32_t id : border) {
      heavy.push_back(id);
      cum += w[id];
      if (cum >= target) break;
    }
    kept_.swap(heavy);
    mass = cum;
  } else {
    std::sort(kept_.begin(), kept_.end(), heavier);
    // Top-p over what top-k left: the smallest prefix holding top_p of its mass.
    if (top_p_ < 1.0f) {
      double cum = 0.0;
      size_t end = 0;
      while (end < kept_.size()) {
        cum += w[kept_[end++]];
        if (cum >= target) break;
      }
      kept_.resize(end);
      mass = cum;
    }
  }
  // Draw.
  const double u = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  double cum = 0.0;
  for (int32_t id : kept_) {
    cum += w[id];
    if (u < cum) return id;
  }
  return kept_.back();
}

}  // namespace specfuse
