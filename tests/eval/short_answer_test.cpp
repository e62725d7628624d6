// SQuAD-style normalization, exact match and token F1 over aliases (TriviaQA), on
// hand-made responses.
#include "eval/short_answer.h"

#include <gtest/gtest.h>

namespace specfuse::eval {
namespace {

const std::vector<std::string> kSunset = {"Sunset Boulevard", "Sunset Blvd.", "West Sunset Boulevard"};

TEST(SquadNormalize, LowersDropsPunctuationArticlesAndExtraSpace) {
  EXPECT_EQ(SquadNormalize("  The U.S.   Navy!"), "us navy");
  EXPECT_EQ(SquadNormalize("An apple, a day"), "apple day");
  EXPECT_EQ(SquadNormalize("Theatre"), "theatre");
}

TEST(ShortAnswerOf, TakesTheFirstLineWithoutAnAnswerCue) {
  EXPECT_EQ(ShortAnswerOf("\n**Sunset Boulevard**\nIt premiered in 1993."), "Sunset Boulevard");
  EXPECT_EQ(ShortAnswerOf("The answer is Sunset Boulevard."), "Sunset Boulevard.");
  EXPECT_EQ(ShortAnswerOf("Answer: Paris"), "Paris");
}

TEST(ShortExactMatch, MatchesAnyAliasAfterNormalization) {
  EXPECT_EQ(ShortExactMatch("Sunset Blvd", kSunset), 1.0);
  EXPECT_EQ(ShortExactMatch("the answer is west sunset boulevard!", kSunset), 1.0);
  EXPECT_EQ(ShortExactMatch("Sunset Boulevard is a musical.", kSunset), 0.0);
  EXPECT_EQ(ShortExactMatch("Cats", kSunset), 0.0);
}

TEST(ShortTokenF1, IsTheBestOverAliases) {
  // "sunset boulevard musical" vs "sunset boulevard": p = 2/3, r = 1, F1 = 0.8.
  EXPECT_DOUBLE_EQ(ShortTokenF1("Sunset Boulevard musical", kSunset), 0.8);
  EXPECT_DOUBLE_EQ(ShortTokenF1("Sunset Boulevard", kSunset), 1.0);
  EXPECT_DOUBLE_EQ(ShortTokenF1("Evita", kSunset), 0.0);
}

TEST(ShortContains, FindsAWholeAliasAnywhere) {
  EXPECT_EQ(ShortContains("I think it was Sunset Boulevard, in 1993.", kSunset), 1.0);
  EXPECT_EQ(ShortContains("Sunsets are nice", kSunset), 0.0);
}

}  // namespace
}  // namespace specfuse::eval
