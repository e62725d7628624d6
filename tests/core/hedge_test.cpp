// SpecEM's online verifier weights (src/core/hedge.h): per-round rewards and the
// multiplicative-weights update.
#include "core/hedge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace specfuse {
namespace {

constexpr double kTol = 1e-12;

// --- HedgeRewards --------------------------------------------------------------------

// Three models A, B, C; model i drafted candidate i and every model verified.
TEST(HedgeRewards, ARewardIsTheFractionOfVerifierRivalPairsTheCandidateWins) {
  const std::vector<std::vector<double>> scores = {
      {0.5, 0.3, 0.2},  // A's scores of candidates A, B, C
      {0.2, 0.5, 0.3},  // B's
      {0.6, 0.1, 0.3},  // C's
  };
  const std::vector<double> r = HedgeRewards(scores, {0, 1, 2});
  ASSERT_EQ(r.size(), 3u);
  // A, judged by B and C against rivals B and C:
  //   B: 0.2 >= 0.5 no, 0.2 >= 0.3 no;  C: 0.6 >= 0.1 yes, 0.6 >= 0.3 yes  -> 2/4.
  EXPECT_EQ(r[0], 0.5);
  // B, judged by A and C against rivals A and C:
  //   A: 0.3 >= 0.5 no, 0.3 >= 0.2 yes; C: 0.1 >= 0.6 no, 0.1 >= 0.3 no    -> 1/4.
  EXPECT_EQ(r[1], 0.25);
  // C, judged by A and B against rivals A and B:
  //   A: 0.2 >= 0.5 no, 0.2 >= 0.3 no;  B: 0.3 >= 0.2 yes, 0.3 >= 0.5 no   -> 1/4.
  EXPECT_EQ(r[2], 0.25);
}

TEST(HedgeRewards, ACandidateEveryOtherVerifierRanksFirstEarnsOne) {
  const std::vector<std::vector<double>> scores = {
      {0.2, 0.5, 0.3},  // A prefers B: A's own opinion of A never counts
      {0.6, 0.3, 0.1},
      {0.7, 0.1, 0.2},
  };
  const std::vector<double> r = HedgeRewards(scores, {0, 1, 2});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0], 1.0);
  // B: A: 0.5 >= 0.2 yes, 0.5 >= 0.3 yes; C: 0.1 >= 0.7 no, 0.1 >= 0.2 no  -> 2/4.
  EXPECT_EQ(r[1], 0.5);
  // C: A: 0.3 >= 0.2 yes, 0.3 >= 0.5 no;  B: 0.1 >= 0.6 no, 0.1 >= 0.3 no   -> 1/4.
  EXPECT_EQ(r[2], 0.25);
}

TEST(HedgeRewards, ATieWithARivalCountsAsAWin) {
  const std::vector<std::vector<double>> scores = {{0.5, 0.5}, {0.5, 0.5}};
  EXPECT_EQ(HedgeRewards(scores, {0, 1}), (std::vector<double>{1.0, 1.0}));
}

TEST(HedgeRewards, AModelWithNoCandidateGetsTheMeanOfTheOthersRewards) {
  // A and B drafted candidates 0 and 1; C drafted nothing but verified.
  const std::vector<std::vector<double>> scores = {
      {0.7, 0.3},
      {0.4, 0.6},
      {0.8, 0.2},
  };
  const std::vector<double> r = HedgeRewards(scores, {0, 1, -1});
  ASSERT_EQ(r.size(), 3u);
  // A, rival B only, judged by B and C: B: 0.4 >= 0.6 no; C: 0.8 >= 0.2 yes  -> 1/2.
  EXPECT_EQ(r[0], 0.5);
  // B, rival A only, judged by A and C: A: 0.3 >= 0.7 no; C: 0.2 >= 0.8 no   -> 0.
  EXPECT_EQ(r[1], 0.0);
  // C: the neutral reward, (1/2 + 0) / 2.
  EXPECT_EQ(r[2], 0.25);
}

TEST(HedgeRewards, AModelThatDidNotVerifyStillEarnsFromTheOthersVerdicts) {
  // B's row is empty: B did not verify.
  const std::vector<std::vector<double>> scores = {
      {0.6, 0.3, 0.1},
      {},
      {0.3, 0.2, 0.5},
  };
  const std::vector<double> r = HedgeRewards(scores, {0, 1, 2});
  ASSERT_EQ(r.size(), 3u);
  // A, judged by C only, rivals B and C: 0.3 >= 0.2 yes, 0.3 >= 0.5 no      -> 1/2.
  EXPECT_EQ(r[0], 0.5);
  // B, judged by A and C, rivals A and C:
  //   A: 0.3 >= 0.6 no, 0.3 >= 0.1 yes; C: 0.2 >= 0.3 no, 0.2 >= 0.5 no    -> 1/4.
  EXPECT_EQ(r[1], 0.25);
  // C, judged by A only, rivals A and B: 0.1 >= 0.6 no, 0.1 >= 0.3 no        -> 0.
  EXPECT_EQ(r[2], 0.0);
}

TEST(HedgeRewards, AModelWithNoVerifierOtherThanItselfGetsTheMeanReward) {
  // Only A verified. A's candidate has no (verifier != A) pair: neutral reward.
  const std::vector<std::vector<double>> scores = {{0.4, 0.6, 0.2}, {}, {}};
  const std::vector<double> r = HedgeRewards(scores, {0, 1, 2});
  ASSERT_EQ(r.size(), 3u);
  // B, judged by A, rivals A and C: 0.6 >= 0.4 yes, 0.6 >= 0.2 yes           -> 1.
  EXPECT_EQ(r[1], 1.0);
  // C, judged by A, rivals A and B: 0.2 >= 0.4 no, 0.2 >= 0.6 no             -> 0.
  EXPECT_EQ(r[2], 0.0);
  EXPECT_EQ(r[0], 0.5);
}

TEST(HedgeRewards, MissingTrailingScoreRowsCountAsNotVerified) {
  // scores has rows for A and B only; C did not verify.
  const std::vector<std::vector<double>> scores = {{0.5, 0.2, 0.3}, {0.1, 0.6, 0.3}};
  const std::vector<double> r = HedgeRewards(scores, {0, 1, 2});
  ASSERT_EQ(r.size(), 3u);
  // A, judged by B, rivals B and C: 0.1 >= 0.6 no, 0.1 >= 0.3 no             -> 0.
  EXPECT_EQ(r[0], 0.0);
  // B, judged by A, rivals A and C: 0.2 >= 0.5 no, 0.2 >= 0.3 no             -> 0.
  EXPECT_EQ(r[1], 0.0);
  // C, judged by A and B, rivals A and B:
  //   A: 0.3 >= 0.5 no, 0.3 >= 0.2 yes; B: 0.3 >= 0.1 yes, 0.3 >= 0.6 no   -> 2/4.
  EXPECT_EQ(r[2], 0.5);
}

// --- HedgeUpdate ---------------------------------------------------------------------

TEST(HedgeUpdate, WeightsAreMultipliedByExpOfEtaTimesRewardAndRenormalized) {
  std::vector<double> w = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  HedgeUpdate(&w, {0.5, 0.25, 0.25}, /*eta0=*/1.0, /*round=*/1);

  const double eta = 1.0 * std::sqrt(1.0 / 3.0) / 1.0;
  const double u0 = (1.0 / 3) * std::exp(eta * 0.5);
  const double u1 = (1.0 / 3) * std::exp(eta * 0.25);
  const double u2 = (1.0 / 3) * std::exp(eta * 0.25);
  const double total = u0 + u1 + u2;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0], u0 / total, kTol);
  EXPECT_NEAR(w[1], u1 / total, kTol);
  EXPECT_NEAR(w[2], u2 / total, kTol);
}

TEST(HedgeUpdate, EtaShrinksWithTheRoundAndScalesWithEta0) {
  std::vector<double> w = {0.5, 0.3, 0.2};
  HedgeUpdate(&w, {1.0, 0.5, 0.0}, /*eta0=*/2.0, /*round=*/4);

  const double eta = 2.0 * std::sqrt(1.0 / 3.0) / 4.0;
  const double u0 = 0.5 * std::exp(eta * 1.0);
  const double u1 = 0.3 * std::exp(eta * 0.5);
  const double u2 = 0.2 * std::exp(eta * 0.0);
  const double total = u0 + u1 + u2;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0], u0 / total, kTol);
  EXPECT_NEAR(w[1], u1 / total, kTol);
  EXPECT_NEAR(w[2], u2 / total, kTol);
}

TEST(HedgeUpdate, TheLogRatioOfTwoWeightsMovesByEtaTimesTheirRewardGap) {
  // log(w0/w1) grows by eta_t * (r0 - r1), eta_t = eta0 * sqrt(1/K) / t, K = 4.
  std::vector<double> w = {0.4, 0.3, 0.2, 0.1};
  const double before = std::log(w[0] / w[1]);
  HedgeUpdate(&w, {0.75, 0.25, 0.5, 0.5}, /*eta0=*/1.5, /*round=*/3);
  const double eta = 1.5 * std::sqrt(1.0 / 4.0) / 3.0;  // 0.25
  EXPECT_NEAR(std::log(w[0] / w[1]) - before, eta * (0.75 - 0.25), kTol);
}

TEST(HedgeUpdate, TheUpdatedWeightsSumToOne) {
  std::vector<double> w = {0.7, 0.2, 0.1};
  HedgeUpdate(&w, {0.0, 1.0, 0.5}, /*eta0=*/1.0, /*round=*/2);
  EXPECT_NEAR(w[0] + w[1] + w[2], 1.0, kTol);
}

TEST(HedgeUpdate, EqualRewardsLeaveNormalizedWeightsUnchanged) {
  std::vector<double> w = {0.5, 0.25, 0.25};
  HedgeUpdate(&w, {0.5, 0.5, 0.5}, /*eta0=*/1.0, /*round=*/1);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NEAR(w[0], 0.5, kTol);
  EXPECT_NEAR(w[1], 0.25, kTol);
  EXPECT_NEAR(w[2], 0.25, kTol);
}

TEST(HedgeUpdate, ZeroEta0LeavesNormalizedWeightsUnchanged) {
  std::vector<double> w = {0.5, 0.25, 0.25};
  HedgeUpdate(&w, {1.0, 0.0, 0.5}, /*eta0=*/0.0, /*round=*/1);
  EXPECT_EQ(w, (std::vector<double>{0.5, 0.25, 0.25}));
}

}  // namespace
}  // namespace specfuse
