// Candidate scores (src/core/candidate_score.h): raw score per verifier, normalization
// across candidates, combination across verifiers, and the winner.
#include "core/candidate_score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace specfuse {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kTol = 1e-12;

// --- RawScore ------------------------------------------------------------------------

TEST(RawScore, TheProbVariantIsTheMeanTokenProbability) {
  // Verifiers report float log-probabilities: log 0.5 and log 0.25 are rounded to float,
  // so the exact expectation is the mean of exp() of those floats...
  const float log_half = std::log(0.5f);
  const float log_quarter = std::log(0.25f);
  const double expected =
      (std::exp(static_cast<double>(log_half)) + std::exp(static_cast<double>(log_quarter))) / 2;
  const double score = RawScore({log_half, log_quarter}, {}, ScoreVariant::kProb);
  EXPECT_NEAR(score, expected, kTol);
  // ...which is (0.5 + 0.25) / 2 up to float rounding of the inputs.
  EXPECT_NEAR(score, 0.375, 1e-7);
}

TEST(RawScore, TheProbVariantOfCertainTokensIsOne) {
  EXPECT_EQ(RawScore({0.0f, 0.0f, 0.0f}, {}, ScoreVariant::kProb), 1.0);
}

TEST(RawScore, AnImpossibleTokenCountsAsProbabilityZeroInTheProbVariant) {
  EXPECT_EQ(RawScore({0.0f, -kInfF}, {}, ScoreVariant::kProb), 0.5);
}

TEST(RawScore, TheLogprobVariantIsTheMeanTokenLogProbability) {
  EXPECT_EQ(RawScore({-1.0f, -2.0f, -4.5f}, {}, ScoreVariant::kLogprob), -2.5);
  EXPECT_EQ(RawScore({-0.75f}, {}, ScoreVariant::kLogprob), -0.75);
}

TEST(RawScore, TheLogitVariantIsTheMeanLogitAndIgnoresLogprobs) {
  EXPECT_EQ(RawScore({-1.0f, -1.0f, -1.0f}, {2.0f, 4.0f, 9.0f}, ScoreVariant::kLogit), 5.0);
  EXPECT_EQ(RawScore({-1.0f, -1.0f}, {-3.0f, 1.0f}, ScoreVariant::kLogit), -1.0);
}

TEST(RawScore, TheProbAndLogprobVariantsIgnoreLogits) {
  EXPECT_EQ(RawScore({0.0f}, {7.0f}, ScoreVariant::kProb), 1.0);
  EXPECT_EQ(RawScore({-2.0f}, {7.0f}, ScoreVariant::kLogprob), -2.0);
}

TEST(RawScore, AnEmptyCandidateScoresMinusInfinityInEveryVariant) {
  EXPECT_EQ(RawScore({}, {}, ScoreVariant::kProb), -kInf);
  EXPECT_EQ(RawScore({}, {}, ScoreVariant::kLogprob), -kInf);
  EXPECT_EQ(RawScore({}, {}, ScoreVariant::kLogit), -kInf);
}

// --- NormalizeScores -----------------------------------------------------------------

TEST(NormalizeScores, ProbabilitiesAreDividedByTheirSum) {
  const std::vector<double> n = NormalizeScores({0.2, 0.6}, ScoreVariant::kProb);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NEAR(n[0], 0.25, kTol);
  EXPECT_NEAR(n[1], 0.75, kTol);
}

TEST(NormalizeScores, ProbabilitiesThatAlreadySumToOneAreUnchanged) {
  const std::vector<double> n = NormalizeScores({0.5, 0.25, 0.25}, ScoreVariant::kProb);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0], 0.5);
  EXPECT_EQ(n[1], 0.25);
  EXPECT_EQ(n[2], 0.25);
}

TEST(NormalizeScores, LogprobsGoThroughASoftmax) {
  // softmax(log 1, log 3) = (1, 3) / 4.
  const std::vector<double> n = NormalizeScores({0.0, std::log(3.0)}, ScoreVariant::kLogprob);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NEAR(n[0], 0.25, kTol);
  EXPECT_NEAR(n[1], 0.75, kTol);
}

TEST(NormalizeScores, TheSoftmaxOfThreeLogprobsMatchesTheHandComputedValues) {
  const std::vector<double> n = NormalizeScores({-1.0, -2.0, -3.0}, ScoreVariant::kLogprob);
  const double z = std::exp(-1.0) + std::exp(-2.0) + std::exp(-3.0);
  ASSERT_EQ(n.size(), 3u);
  EXPECT_NEAR(n[0], std::exp(-1.0) / z, kTol);
  EXPECT_NEAR(n[1], std::exp(-2.0) / z, kTol);
  EXPECT_NEAR(n[2], std::exp(-3.0) / z, kTol);
}

TEST(NormalizeScores, LogitsGoThroughASoftmax) {
  const std::vector<double> n = NormalizeScores({2.0, 2.0 + std::log(3.0)}, ScoreVariant::kLogit);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NEAR(n[0], 0.25, kTol);
  EXPECT_NEAR(n[1], 0.75, kTol);
}

TEST(NormalizeScores, TheSoftmaxDoesNotOverflowOnLargeLogits) {
  const std::vector<double> n = NormalizeScores({1000.0, 999.0}, ScoreVariant::kLogit);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_NEAR(n[0], 1.0 / (1.0 + std::exp(-1.0)), kTol);
  EXPECT_NEAR(n[1], std::exp(-1.0) / (1.0 + std::exp(-1.0)), kTol);
}

TEST(NormalizeScores, AMinusInfinityScoreGetsZeroAndTheOthersShareOne) {
  const std::vector<double> prob = NormalizeScores({-kInf, 0.1, 0.3}, ScoreVariant::kProb);
  ASSERT_EQ(prob.size(), 3u);
  EXPECT_EQ(prob[0], 0.0);
  EXPECT_NEAR(prob[1], 0.25, kTol);
  EXPECT_NEAR(prob[2], 0.75, kTol);

  const std::vector<double> lp = NormalizeScores({-1.0, -kInf, -1.0}, ScoreVariant::kLogprob);
  ASSERT_EQ(lp.size(), 3u);
  EXPECT_EQ(lp[0], 0.5);
  EXPECT_EQ(lp[1], 0.0);
  EXPECT_EQ(lp[2], 0.5);
}

TEST(NormalizeScores, AllMinusInfinityScoresGiveAllZeros) {
  for (ScoreVariant v : {ScoreVariant::kProb, ScoreVariant::kLogprob, ScoreVariant::kLogit}) {
    EXPECT_EQ(NormalizeScores({-kInf, -kInf}, v), (std::vector<double>{0.0, 0.0}));
  }
}

TEST(NormalizeScores, ProbabilitiesThatAreAllZeroBecomeUniformOverTheFiniteOnes) {
  const std::vector<double> n = NormalizeScores({0.0, -kInf, 0.0}, ScoreVariant::kProb);
  EXPECT_EQ(n, (std::vector<double>{0.5, 0.0, 0.5}));
}

TEST(NormalizeScores, NoCandidatesGiveNoScores) {
  EXPECT_TRUE(NormalizeScores({}, ScoreVariant::kProb).empty());
  EXPECT_TRUE(NormalizeScores({}, ScoreVariant::kLogprob).empty());
}

// --- CombineScores -------------------------------------------------------------------

TEST(CombineScores, EachCandidateGetsTheWeightedSumOfItsNormalizedScores) {
  const std::vector<std::vector<double>> normalized = {{0.25, 0.75}, {0.5, 0.5}, {1.0, 0.0}};
  const std::vector<double> combined = CombineScores(normalized, {0.5, 0.3, 0.2});
  ASSERT_EQ(combined.size(), 2u);
  EXPECT_NEAR(combined[0], 0.5 * 0.25 + 0.3 * 0.5 + 0.2 * 1.0, kTol);  // 0.475
  EXPECT_NEAR(combined[1], 0.5 * 0.75 + 0.3 * 0.5 + 0.2 * 0.0, kTol);  // 0.525
  EXPECT_NEAR(combined[0], 0.475, kTol);
  EXPECT_NEAR(combined[1], 0.525, kTol);
}

TEST(CombineScores, UniformWeightsAverageTheVerifiers) {
  const std::vector<double> combined =
      CombineScores({{0.25, 0.75, 0.0}, {0.75, 0.0, 0.25}}, {0.5, 0.5});
  EXPECT_EQ(combined, (std::vector<double>{0.5, 0.375, 0.125}));
}

TEST(CombineScores, AVerifierWithZeroWeightDoesNotCount) {
  const std::vector<double> combined = CombineScores({{1.0, 0.0}, {0.0, 1.0}}, {0.0, 1.0});
  EXPECT_EQ(combined, (std::vector<double>{0.0, 1.0}));
}

TEST(CombineScores, NoVerifiersGiveNoScores) {
  EXPECT_TRUE(CombineScores({}, {}).empty());
}

// --- ArgMax --------------------------------------------------------------------------

TEST(ArgMax, ReturnsTheIndexOfTheLargestValue) {
  EXPECT_EQ(ArgMax({0.1, 0.7, 0.2}), 1);
  EXPECT_EQ(ArgMax({0.1, 0.2, 0.7}), 2);
  EXPECT_EQ(ArgMax({-3.0, -1.0, -2.0}), 1);
  EXPECT_EQ(ArgMax({0.4}), 0);
}

TEST(ArgMax, ReturnsTheFirstIndexOnTies) {
  EXPECT_EQ(ArgMax({0.4, 0.4, 0.2}), 0);
  EXPECT_EQ(ArgMax({0.1, 0.45, 0.45}), 1);
  EXPECT_EQ(ArgMax({0.0, 0.0, 0.0}), 0);
}

TEST(ArgMax, AMinusInfinityScoreNeverWinsOverAFiniteOne) {
  EXPECT_EQ(ArgMax({-kInf, 0.0}), 1);
}

}  // namespace
}  // namespace specfuse
