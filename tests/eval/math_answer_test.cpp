// The final-number extraction and numeric comparison of math answers, on hand-made
// responses.
#include "eval/math_answer.h"

#include <gtest/gtest.h>

namespace specfuse::eval {
namespace {

TEST(ExtractFinalNumber, PrefersTheNumberAfterTheLastAnswerIsCue) {
  EXPECT_EQ(ExtractFinalNumber("She has 16 - 3 = 13 eggs, so 13 * 2 = 26. The answer is 26."), "26");
  EXPECT_EQ(ExtractFinalNumber("The answer is 5 at first. Then 7 more. So the answer is $1,200 in total, 8"),
            "1200");
  EXPECT_EQ(ExtractFinalNumber("The answer is: **42** dollars"), "42");
  EXPECT_EQ(ExtractFinalNumber("THE ANSWER IS -3.5"), "-3.5");
}

TEST(ExtractFinalNumber, FallsBackToTheLastBoxedThenTheLastNumber) {
  EXPECT_EQ(ExtractFinalNumber("We get \\boxed{18} and check with 2 + 16."), "18");
  EXPECT_EQ(ExtractFinalNumber("\\boxed{\\frac{1}{2}} then \\boxed{7}"), "7");
  EXPECT_EQ(ExtractFinalNumber("3 apples and 4 pears make 7 fruits."), "7");
  EXPECT_EQ(ExtractFinalNumber("The answer is unclear; it costs 12 dollars"), "12");
  EXPECT_EQ(ExtractFinalNumber("no number here"), std::nullopt);
}

TEST(ExtractFinalNumber, ReadsThousandsSeparatorsOnlyBetweenGroupsOfThree) {
  EXPECT_EQ(ExtractFinalNumber("Total: 1,234,567"), "1234567");
  EXPECT_EQ(ExtractFinalNumber("the pairs 3,4"), "4");
  EXPECT_EQ(ExtractFinalNumber("pages 10-12"), "12");
  EXPECT_EQ(ExtractFinalNumber("It is 18.00."), "18.00");
}

TEST(NumbersEqual, ComparesAsNumbers) {
  EXPECT_TRUE(NumbersEqual("18", "18.00"));
  EXPECT_TRUE(NumbersEqual("$18", "18"));
  EXPECT_TRUE(NumbersEqual("1,000", "1000"));
  EXPECT_TRUE(NumbersEqual("18 dollars", "18"));
  EXPECT_TRUE(NumbersEqual("-2", "-2.0"));
  EXPECT_FALSE(NumbersEqual("18", "19"));
  EXPECT_FALSE(NumbersEqual("0.5", "5"));
  EXPECT_FALSE(NumbersEqual("none", "5"));
  EXPECT_FALSE(NumbersEqual("3 and 4", "4"));
}

}  // namespace
}  // namespace specfuse::eval
