// The model-exit decision (src/core/model_exit.h) under ExitOptions
// (include/specfuse/ensemble_options.h).
#include "core/model_exit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "specfuse/ensemble_options.h"

namespace specfuse {
namespace {

constexpr double kTol = 1e-12;

// Defaults spelled out so the hand computations below do not depend on them changing.
ExitOptions Options() {
  ExitOptions o;
  o.enabled = true;
  o.warmup_rounds = 3;
  o.temperature = 0.5;
  o.entropy_threshold = 0.75;
  o.epsilon = 0.5;
  o.min_active = 1;
  return o;
}

double NormalizedEntropy(const std::vector<double>& p) {
  double h = 0.0;
  for (double x : p) h -= x * std::log(x);
  return h / std::log(static_cast<double>(p.size()));
}

TEST(DecideExits, NoDecisionIsTakenDuringWarmUp) {
  const ExitDecision d = DecideExits({0.0, 3.0, 0.5}, /*rounds_done=*/2, Options());
  EXPECT_FALSE(d.tested);
  EXPECT_TRUE(d.exits.empty());
  EXPECT_TRUE(d.p.empty());
}

TEST(DecideExits, TheTestRunsOnceTheWarmUpRoundsAreDone) {
  const ExitDecision d = DecideExits({0.0, 3.0, 0.5}, /*rounds_done=*/3, Options());
  EXPECT_TRUE(d.tested);
  EXPECT_EQ(d.exits, (std::vector<int>{0, 2}));
}

TEST(DecideExits, NoDrafterExitsWhenModelExitIsDisabled) {
  ExitOptions o = Options();
  o.enabled = false;
  const ExitDecision d = DecideExits({0.0, 3.0, 0.5}, /*rounds_done=*/100, o);
  EXPECT_FALSE(d.tested);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, AClearRankingMakesTheWeakDraftersExit) {
  // Q / T = (0, 6, 1): p = softmax = (e^-6, 1, e^-5) / (1 + e^-5 + e^-6).
  const ExitDecision d = DecideExits({0.0, 3.0, 0.5}, /*rounds_done=*/5, Options());
  const double z = 1.0 + std::exp(-5.0) + std::exp(-6.0);
  const std::vector<double> p = {std::exp(-6.0) / z, 1.0 / z, std::exp(-5.0) / z};
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 3u);
  EXPECT_NEAR(d.p[0], p[0], kTol);  // ~0.00246
  EXPECT_NEAR(d.p[1], p[1], kTol);  // ~0.99087
  EXPECT_NEAR(d.p[2], p[2], kTol);  // ~0.00667
  EXPECT_NEAR(d.entropy, NormalizedEntropy(p), kTol);
  EXPECT_LT(d.entropy, 0.75);
  // epsilon / N = 0.5 / 3: drafters 0 and 2 fall below it.
  EXPECT_EQ(d.exits, (std::vector<int>{0, 2}));
}

TEST(DecideExits, OnlyDraftersBelowEpsilonOverNExit) {
  // Q / T = (4, 4, 0): p = (e^4, e^4, 1) / (2 e^4 + 1) ~ (0.4955, 0.4955, 0.0091).
  const ExitDecision d = DecideExits({2.0, 2.0, 0.0}, /*rounds_done=*/3, Options());
  const double z = 2.0 * std::exp(4.0) + 1.0;
  const std::vector<double> p = {std::exp(4.0) / z, std::exp(4.0) / z, 1.0 / z};
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 3u);
  EXPECT_NEAR(d.p[0], p[0], kTol);
  EXPECT_NEAR(d.p[1], p[1], kTol);
  EXPECT_NEAR(d.p[2], p[2], kTol);
  EXPECT_NEAR(d.entropy, NormalizedEntropy(p), kTol);  // ~0.672
  EXPECT_LT(d.entropy, 0.75);
  EXPECT_EQ(d.exits, (std::vector<int>{2}));
}

TEST(DecideExits, AFlatRankingWithEntropyAboveTheThresholdExitsNone) {
  // Q / T = (2, 1.8, 1.6): nearly uniform.
  const ExitDecision d = DecideExits({1.0, 0.9, 0.8}, /*rounds_done=*/10, Options());
  const double z = std::exp(0.0) + std::exp(-0.2) + std::exp(-0.4);
  const std::vector<double> p = {1.0 / z, std::exp(-0.2) / z, std::exp(-0.4) / z};
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 3u);
  EXPECT_NEAR(d.p[0], p[0], kTol);
  EXPECT_NEAR(d.p[1], p[1], kTol);
  EXPECT_NEAR(d.p[2], p[2], kTol);
  EXPECT_NEAR(d.entropy, NormalizedEntropy(p), kTol);  // ~0.983
  EXPECT_GT(d.entropy, 0.75);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, EqualQualitiesGiveUniformPAndEntropyOne) {
  const ExitDecision d = DecideExits({0.7, 0.7, 0.7, 0.7}, /*rounds_done=*/3, Options());
  ASSERT_TRUE(d.tested);
  EXPECT_EQ(d.p, (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
  EXPECT_NEAR(d.entropy, 1.0, kTol);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, AHigherTemperatureFlattensPSoTheSameQualitiesExitNone) {
  ExitOptions o = Options();
  o.temperature = 10.0;
  // Q / T = (0, 0.3, 0.05).
  const ExitDecision d = DecideExits({0.0, 3.0, 0.5}, /*rounds_done=*/5, o);
  const double z = std::exp(-0.3) + 1.0 + std::exp(-0.25);
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 3u);
  EXPECT_NEAR(d.p[0], std::exp(-0.3) / z, kTol);
  EXPECT_NEAR(d.p[1], 1.0 / z, kTol);
  EXPECT_NEAR(d.p[2], std::exp(-0.25) / z, kTol);
  EXPECT_GT(d.entropy, 0.75);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, EntropyExactlyAtTheThresholdExitsNone) {
  // The test passes only when the entropy falls strictly below the threshold.
  ExitOptions o = Options();
  const std::vector<double> quality = {0.0, 3.0, 0.5};
  o.entropy_threshold = 1.0;
  const double entropy = DecideExits(quality, 3, o).entropy;

  o.entropy_threshold = entropy;
  EXPECT_TRUE(DecideExits(quality, 3, o).exits.empty());
  o.entropy_threshold = std::nextafter(entropy, 1.0);
  EXPECT_EQ(DecideExits(quality, 3, o).exits, (std::vector<int>{0, 2}));
}

TEST(DecideExits, ADrafterExactlyAtEpsilonOverNStays) {
  // Exit needs p_i strictly below epsilon / N. With N = 2, (2 p) / 2 == p exactly.
  ExitOptions o = Options();
  const std::vector<double> quality = {0.0, 2.0};
  const double p0 = DecideExits(quality, 3, o).p.at(0);

  o.epsilon = 2.0 * p0;
  EXPECT_TRUE(DecideExits(quality, 3, o).exits.empty());
  o.epsilon = std::nextafter(2.0 * p0, 1.0);
  EXPECT_EQ(DecideExits(quality, 3, o).exits, (std::vector<int>{0}));
}

TEST(DecideExits, TheBestMinActiveDraftersAlwaysStay) {
  ExitOptions o = Options();
  o.min_active = 2;
  // Q / T = (0, 8, 1): p_0 ~ e^-8 and p_2 ~ e^-7 are both below 0.5 / 3, but drafter 2 is
  // second best and stays.
  const ExitDecision d = DecideExits({0.0, 4.0, 0.5}, /*rounds_done=*/3, o);
  const double z = std::exp(-8.0) + 1.0 + std::exp(-7.0);
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 3u);
  EXPECT_NEAR(d.p[0], std::exp(-8.0) / z, kTol);
  EXPECT_NEAR(d.p[2], std::exp(-7.0) / z, kTol);
  EXPECT_LT(d.p[2], o.epsilon / 3);
  EXPECT_EQ(d.exits, (std::vector<int>{0}));
}

TEST(DecideExits, AmongEquallyWeakDraftersTheEarlierOneStaysForMinActive) {
  ExitOptions o = Options();
  o.min_active = 2;
  const ExitDecision d = DecideExits({5.0, 0.0, 0.0, 0.0}, /*rounds_done=*/3, o);
  ASSERT_TRUE(d.tested);
  EXPECT_EQ(d.exits, (std::vector<int>{2, 3}));
}

TEST(DecideExits, NoTestRunsWithNoMoreDraftersThanMinActive) {
  ExitOptions o = Options();
  o.min_active = 2;
  const ExitDecision d = DecideExits({0.0, 5.0}, /*rounds_done=*/3, o);
  EXPECT_FALSE(d.tested);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, ALoneDrafterIsNeverTested) {
  const ExitDecision d = DecideExits({1.0}, /*rounds_done=*/10, Options());
  EXPECT_FALSE(d.tested);
  EXPECT_TRUE(d.exits.empty());
}

TEST(DecideExits, TwoDraftersWithMinActiveOneCanLeaveOne) {
  // Q / T = (0, 4): p = (e^-4, 1) / (1 + e^-4); p_0 ~ 0.018 < 0.5 / 2.
  const ExitDecision d = DecideExits({0.0, 2.0}, /*rounds_done=*/3, Options());
  const double z = 1.0 + std::exp(-4.0);
  ASSERT_TRUE(d.tested);
  ASSERT_EQ(d.p.size(), 2u);
  EXPECT_NEAR(d.p[0], std::exp(-4.0) / z, kTol);
  EXPECT_NEAR(d.p[1], 1.0 / z, kTol);
  EXPECT_NEAR(d.entropy, NormalizedEntropy({std::exp(-4.0) / z, 1.0 / z}), kTol);
  EXPECT_EQ(d.exits, (std::vector<int>{0}));
}

}  // namespace
}  // namespace specfuse
