// The anchor gate's pure functions, computed by hand. The models are stand-ins that only
// report a name and a parameter count: no model is loaded or run.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/anchor.h"
#include "sized_model.h"

namespace specfuse {
namespace {

Member M(int64_t params, MemberRole role = MemberRole::kBoth, double weight = 0.0) {
  Member m;
  m.model = std::make_shared<SizedModel>("m" + std::to_string(params), params);
  m.role = role;
  m.weight = weight;
  return m;
}

TEST(AnchorMember, IsTheLargestVerifier) {
  EXPECT_EQ(AnchorMember({M(135), M(494)}), 1);
  EXPECT_EQ(AnchorMember({M(1500), M(135), M(494)}), 0);
}

TEST(AnchorMember, SkipsDraftOnlyMembers) {
  EXPECT_EQ(AnchorMember({M(135), M(1500, MemberRole::kDrafter), M(494)}), 2);
  EXPECT_EQ(AnchorMember({M(135, MemberRole::kDrafter)}), -1);
}

TEST(AnchorMember, PrefersAnExplicitWeightOverSize) {
  // A remote member reports no size; its configured weight makes it the anchor.
  EXPECT_EQ(AnchorMember({M(1500), M(0, MemberRole::kBoth, 2.0)}), 1);
  EXPECT_EQ(AnchorMember({M(1500, MemberRole::kBoth, 1.0), M(135, MemberRole::kBoth, 3.0)}), 1);
}

TEST(AnchorMember, IsNoneWhenNoVerifierStandsOut) {
  EXPECT_EQ(AnchorMember({M(494), M(494)}), -1);
  EXPECT_EQ(AnchorMember({M(0), M(0)}), -1);  // two remote members, no weights
  EXPECT_EQ(AnchorMember({}), -1);
}

TEST(AnchorEligible, KeepsCandidatesWithinTheMarginOfTheBest) {
  auto e = AnchorEligible({-0.5, -0.7, -1.6, -0.9}, 0.4);
  EXPECT_EQ(e, (std::vector<bool>{true, true, false, true}));
  e = AnchorEligible({-0.5, -0.7, -1.6}, 0.0);
  EXPECT_EQ(e, (std::vector<bool>{true, false, false}));
}

TEST(AnchorEligible, NeverKeepsAnUnscoredCandidate) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(AnchorEligible({-inf, -2.0}, 100.0), (std::vector<bool>{false, true}));
  EXPECT_EQ(AnchorEligible({-inf, -inf}, 1.0), (std::vector<bool>{false, false}));
}

TEST(WorstTokenGap, IsTheMostNegativeGapToTheFavouriteToken) {
  EXPECT_FLOAT_EQ(WorstTokenGap({-0.1f, -2.5f, -0.3f}, {-0.1f, -0.5f, -0.2f}), -2.0f);
  EXPECT_EQ(WorstTokenGap({-0.1f, -0.2f}, {-0.1f, -0.2f}), 0.0);  // every token the favourite
  EXPECT_EQ(WorstTokenGap({}, {}), 0.0);
}

TEST(WorstTokenGap, IsZeroWhereTheFavouriteIsNotKnown) {
  EXPECT_EQ(WorstTokenGap({-3.0f, -4.0f}, {}), 0.0);  // a remote verifier
  EXPECT_FLOAT_EQ(WorstTokenGap({-3.0f, -4.0f}, {NAN, -1.0f}), -3.0f);
}

TEST(AnchorEligible, TheTokenGateAloneKeepsCandidatesWithoutAFarToken) {
  // Candidate 0 has the best mean but one token 2.5 nats below the favourite.
  auto e = AnchorEligible({-0.2, -0.6, -0.9}, {-2.5, -0.4, -1.0}, -1.0, 1.0);
  EXPECT_EQ(e, (std::vector<bool>{false, true, true}));
}

TEST(AnchorEligible, TheMeanGateChoosesAmongWhatTheTokenGateKept) {
  // Margin 0: the best mean among the token-eligible ones (candidate 1), not candidate 0.
  auto e = AnchorEligible({-0.2, -0.6, -0.9}, {-2.5, -0.4, -1.0}, 0.0, 1.0);
  EXPECT_EQ(e, (std::vector<bool>{false, true, false}));
  e = AnchorEligible({-0.2, -0.6, -0.9}, {-2.5, -0.4, -1.0}, 0.5, 1.0);
  EXPECT_EQ(e, (std::vector<bool>{false, true, true}));
}

TEST(AnchorEligible, WhenTheTokenGateKeepsNoneTheMeanGateDecidesAlone) {
  auto e = AnchorEligible({-0.2, -0.6}, {-2.5, -3.0}, 0.0, 1.0);
  EXPECT_EQ(e, (std::vector<bool>{true, false}));
  e = AnchorEligible({-0.2, -0.6}, {-2.5, -3.0}, -1.0, 1.0);
  EXPECT_EQ(e, (std::vector<bool>{true, true}));
}

TEST(AnchorEligible, WithBothGatesOffEveryCandidateIsEligible) {
  EXPECT_EQ(AnchorEligible({-0.2, -5.0}, {-9.0, 0.0}, -1.0, -1.0), (std::vector<bool>{true, true}));
}

TEST(AnchorEligible, TheMeanGateAloneIsTheTwoArgumentGate) {
  EXPECT_EQ(AnchorEligible({-0.5, -0.7, -1.6, -0.9}, {-9, -9, -9, -9}, 0.4, -1.0),
            AnchorEligible({-0.5, -0.7, -1.6, -0.9}, 0.4));
}

TEST(GatedArgMax, ChoosesAmongEligibleCandidatesOnly) {
  // The weak member's candidate (index 0) has the larger vote but the anchor rejects it.
  EXPECT_EQ(GatedArgMax({0.7, 0.3}, {false, true}), 1);
  EXPECT_EQ(GatedArgMax({0.2, 0.5, 0.3}, {true, false, true}), 2);
  EXPECT_EQ(GatedArgMax({0.4, 0.4}, {true, true}), 0);  // first on ties
}

TEST(GatedArgMax, FallsBackToAllWhenNothingIsEligible) {
  EXPECT_EQ(GatedArgMax({0.2, 0.8}, {false, false}), 1);
  EXPECT_EQ(GatedArgMax({0.2, 0.8}, {}), 1);
}

}  // namespace
}  // namespace specfuse
