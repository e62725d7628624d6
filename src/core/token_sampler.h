// TokenSampler: picks the next token from a logits row, with the usual OpenAI/vLLM
// semantics: temperature first, then top-k, then top-p (nucleus), then a draw from what
// is left; temperature 0 is greedy (argmax, lowest id on ties). Seeded, so the same seed
// and rows give the same tokens. Written for 150k-entry rows: one vectorized pass for the
// weights, and only the tokens near the top are ever sorted.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace specfuse {

class TokenSampler {
 public:
  TokenSampler(float temperature, float top_p, int top_k, uint64_t seed);

  // The sampled token id for one row of n logits.
  int32_t Sample(const float* logits, int n);

 private:
  float temperature_;
  float top_p_;
  int top_k_;
  std::mt19937_64 rng_;
  std::vector<float> weights_;
  std::vector<int32_t> kept_;
  std::vector<double> bin_mass_;
};

}  // namespace specfuse
