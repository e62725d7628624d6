// TokenSampler: greedy, the top-k and top-p sets on hand-computed rows, temperature, seed
// determinism, and frequencies against the exact distribution.
#include "core/token_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace specfuse {
namespace {

// Logits whose softmax at temperature 1 is exactly probs.
std::vector<float> LogitsOf(const std::vector<double>& probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

std::map<int, int> Counts(TokenSampler& s, const std::vector<float>& row, int draws) {
  std::map<int, int> c;
  for (int i = 0; i < draws; ++i) ++c[s.Sample(row.data(), static_cast<int>(row.size()))];
  return c;
}

TEST(TokenSamplerTest, TemperatureZeroIsArgmaxWithTheLowestIdOnTies) {
  TokenSampler s(0.0f, 0.9f, 0, 1);
  std::vector<float> row = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.Sample(row.data(), 4), 1);
}

TEST(TokenSamplerTest, TopPKeepsTheSmallestSetReachingTheMass) {
  // 0.5 + 0.3 = 0.8 < 0.85, so the nucleus for top_p 0.85 is {0, 1, 2}; 3 and 4 never come.
  auto row = LogitsOf({0.5, 0.3, 0.1, 0.06, 0.04});
  TokenSampler s(1.0f, 0.85f, 0, 3);
  auto c = Counts(s, row, 20000);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.count(3) + c.count(4), 0u);
  // Renormalized over 0.9: 0.5/0.9, 0.3/0.9, 0.1/0.9.
  EXPECT_NEAR(c[0] / 20000.0, 0.5 / 0.9, 0.015);
  EXPECT_NEAR(c[1] / 20000.0, 0.3 / 0.9, 0.015);
  EXPECT_NEAR(c[2] / 20000.0, 0.1 / 0.9, 0.01);
}

TEST(TokenSamplerTest, TopKThenTopPAppliesTopPWithinTheTopK) {
  // Top-2 = {0, 1} with mass 0.8, renormalized 0.625 / 0.375; top_p 0.6 keeps only 0.
  auto row = LogitsOf({0.5, 0.3, 0.1, 0.06, 0.04});
  TokenSampler only_top(1.0f, 0.6f, 2, 5);
  auto c = Counts(only_top, row, 2000);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], 2000);
  TokenSampler top2(1.0f, 1.0f, 2, 5);
  auto d = Counts(top2, row, 20000);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_NEAR(d[0] / 20000.0, 0.625, 0.015);
}

TEST(TokenSamplerTest, TemperatureSharpensBeforeTruncation) {
  // At T = 0.5 the weights square: 0.25, 0.09, 0.01 -> shares 0.714, 0.257, 0.029.
  auto row = LogitsOf({0.5, 0.3, 0.1});
  TokenSampler s(0.5f, 1.0f, 0, 11);
  auto c = Counts(s, row, 40000);
  EXPECT_NEAR(c[0] / 40000.0, 0.25 / 0.35, 0.01);
  EXPECT_NEAR(c[1] / 40000.0, 0.09 / 0.35, 0.01);
  EXPECT_NEAR(c[2] / 40000.0, 0.01 / 0.35, 0.005);
}

TEST(TokenSamplerTest, TheSameSeedGivesTheSameTokensAndAnotherSeedDiffers) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> row(151936);
  for (float& v : row) v = nd(rng);
  auto draw = [&](uint64_t seed) {
    TokenSampler s(0.8f, 0.95f, 0, seed);
    std::vector<int> out;
    for (int i = 0; i < 32; ++i) out.push_back(s.Sample(row.data(), static_cast<int>(row.size())));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(TokenSamplerTest, AFlatRowIsSampledOnlyWithinTheExactNucleus) {
  // Most of the vocabulary is in the nucleus here (the binned path); every draw must fall
  // in the nucleus computed by a full sort.
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  std::vector<float> row(151936);
  for (float& v : row) v = nd(rng);
  const float t = 0.8f, p = 0.5f;
  std::vector<std::pair<double, int>> byweight;
  double total = 0.0;
  for (int i = 0; i < static_cast<int>(row.size()); ++i) {
    double w = std::exp((row[i] - 12.0) / t);
    byweight.push_back({-w, i});
    total += w;
  }
  std::sort(byweight.begin(), byweight.end());
  std::set<int> nucleus;
  double cum = 0.0;
  for (auto [negw, id] : byweight) {
    nucleus.insert(id);
    cum -= negw;
    if (cum >= p * total) break;
  }
  ASSERT_GT(nucleus.size(), 2048u);
  TokenSampler s(t, p, 0, 17);
  std::set<int> distinct;
  for (int i = 0; i < 300; ++i) {
    int id = s.Sample(row.data(), static_cast<int>(row.size()));
    EXPECT_TRUE(nucleus.count(id)) << id;
    distinct.insert(id);
  }
  EXPECT_GT(distinct.size(), 250u);
}

}  // namespace
}  // namespace specfuse
