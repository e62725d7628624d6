// Evaluation metrics and bootstrap intervals, on cases computed by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/bootstrap.h"
#include "eval/metrics.h"

namespace specfuse::eval {
namespace {

TEST(NormalizeAnswer, LowercasesDropsPunctuationAndArticlesAndWritesNumbersOneWay) {
  EXPECT_EQ(NormalizeAnswer("The answer is 42.0!"), "answer is 42");
  EXPECT_EQ(NormalizeAnswer("1,000"), "1000");
  EXPECT_EQ(NormalizeAnswer("$1,000.50"), "1000.5");
  EXPECT_EQ(NormalizeAnswer("-3.50 degrees"), "-3.5 degrees");
  EXPECT_EQ(NormalizeAnswer("An apple, a pear"), "apple pear");
  EXPECT_EQ(NormalizeAnswer("Seven"), "7");
  EXPECT_EQ(NormalizeAnswer("007"), "7");
  EXPECT_EQ(NormalizeAnswer("well-known"), "well known");
  EXPECT_EQ(NormalizeAnswer("3, 4 and 5"), "3 4 and 5");  // a comma and a space is a list
  EXPECT_EQ(NormalizeAnswer("...!"), "");
}

TEST(ExactMatch, ComparesNormalizedTexts) {
  EXPECT_TRUE(ExactMatch("42.0", "42"));
  EXPECT_TRUE(ExactMatch("1,000", "1000"));
  EXPECT_TRUE(ExactMatch("The Paris.", "paris"));
  EXPECT_FALSE(ExactMatch("It is 42", "42"));
  EXPECT_FALSE(ExactMatch("", "42"));
}

TEST(ContainsAnswer, FindsTheAnswersWordsAdjacentInTheResponse) {
  EXPECT_TRUE(ContainsAnswer("The answer is 1,000 apples.", "1000"));
  EXPECT_TRUE(ContainsAnswer("He has seven apples.", "7"));
  EXPECT_TRUE(ContainsAnswer("Leonardo da Vinci painted it.", "Leonardo da Vinci"));
  EXPECT_FALSE(ContainsAnswer("Leonardo painted it.", "Leonardo da Vinci"));
  EXPECT_FALSE(ContainsAnswer("420", "42"));  // whole numbers, not digits inside one
  EXPECT_FALSE(ContainsAnswer("anything", ""));
}

TEST(ExtractChoice, ReadsTheChosenLetterOrTheChoiceText) {
  const std::vector<std::string> c = {"Berlin", "Madrid", "Paris", "Rome"};
  EXPECT_EQ(ExtractChoice("C", c), 'C');
  EXPECT_EQ(ExtractChoice("C) Paris", c), 'C');
  EXPECT_EQ(ExtractChoice("(C)", c), 'C');
  EXPECT_EQ(ExtractChoice("**D**", c), 'D');
  EXPECT_EQ(ExtractChoice("The answer is C.", c), 'C');
  EXPECT_EQ(ExtractChoice("Answer: B", c), 'B');
  EXPECT_EQ(ExtractChoice("I would pick option D because", c), 'D');
  EXPECT_EQ(ExtractChoice("Paris is the capital of France.", c), 'C');
  EXPECT_EQ(ExtractChoice("A city called Paris.", c), 'C');  // "A" here is a word
  EXPECT_EQ(ExtractChoice("Rome, not Paris.", c), 'D');      // the earliest choice text
  EXPECT_EQ(ExtractChoice("I think it is B", c), 'B');
  EXPECT_EQ(ExtractChoice("I don't know.", c), 0);
  EXPECT_EQ(ExtractChoice("The answer is a city.", c), 0);
  EXPECT_EQ(ExtractChoice("E", c), 0);  // not one of four choices
}

TEST(RougeL, IsTheF1OfTheLongestCommonSubsequence) {
  // LCS "the cat sat on mat" = 5 of 6 words on both sides: P = R = F = 5/6.
  EXPECT_NEAR(RougeLF1("the cat sat on a mat", "the cat sat on the mat"), 5.0 / 6.0, 1e-12);
  // LCS 1: P = 1/2, R = 1/2.
  EXPECT_NEAR(RougeLF1("cat the", "the cat"), 0.5, 1e-12);
  // LCS 2 of 2 candidate words and 6 reference words: P = 1, R = 1/3, F = 0.5.
  EXPECT_NEAR(RougeLF1("The cat.", "the cat sat on the mat"), 0.5, 1e-12);
  EXPECT_EQ(RougeLF1("", "the cat"), 0);
  EXPECT_EQ(RougeLF1("dog", "the cat"), 0);
}

TEST(SentenceBleu, IsBleu4WithAddOneSmoothingAboveUnigrams) {
  // Clipped matches: 1-grams 5/6, 2-grams 3/5 -> 4/6, 3-grams 2/4 -> 3/5, 4-grams 1/3 -> 2/4;
  // equal lengths, so BP = 1 and BLEU = (5/6 * 4/6 * 3/5 * 2/4)^(1/4) = (1/6)^(1/4).
  EXPECT_NEAR(SentenceBleu("the cat sat on a mat", "the cat sat on the mat"), std::pow(1.0 / 6.0, 0.25),
              1e-12);
  // Precisions all 1 (no 3- or 4-grams: (0+1)/(0+1)); BP = exp(1 - 6/2).
  EXPECT_NEAR(SentenceBleu("the cat", "the cat sat on the mat"), std::exp(-2.0), 1e-12);
  EXPECT_NEAR(SentenceBleu("the cat sat on the mat", "the cat sat on the mat"), 1.0, 1e-12);
  EXPECT_EQ(SentenceBleu("a dog ran", "the cat sat"), 0);  // no unigram in common
  EXPECT_EQ(SentenceBleu("", "the cat"), 0);
}

TEST(ScoreResponse, UsesEachTasksHeadlineMetric) {
  Item arith{"a", Task::kArithmetic, "3 + 4?", "7", {}, ""};
  ItemScore s = *ScoreResponse(arith, "3 + 4 = 7");
  EXPECT_EQ(s.score, 1);
  EXPECT_EQ(s.metrics.at("em"), 0);
  EXPECT_EQ(s.metrics.at("contains"), 1);
  Item choice{"c", Task::kChoice, "Capital of France?", "C", {"Berlin", "Madrid", "Paris", "Rome"}, ""};
  EXPECT_EQ(ScoreResponse(choice, "C) Paris")->score, 1);
  EXPECT_EQ(ScoreResponse(choice, "Berlin")->score, 0);
  Item instr{"i", Task::kInstruction, "Describe a cat.", "", {}, "the cat sat on the mat"};
  s = *ScoreResponse(instr, "the cat sat on a mat");
  EXPECT_NEAR(s.score, 5.0 / 6.0, 1e-12);
  EXPECT_NEAR(s.metrics.at("bleu"), std::pow(1.0 / 6.0, 0.25), 1e-12);
}

TEST(BootstrapMean, AConstantSampleHasAZeroWidthInterval) {
  Interval i = BootstrapMean(std::vector<double>(10, 0.5));
  EXPECT_EQ(i.mean, 0.5);
  EXPECT_EQ(i.low, 0.5);
  EXPECT_EQ(i.high, 0.5);
  Interval empty = BootstrapMean({});
  EXPECT_EQ(empty.mean, 0);
}

TEST(BootstrapMean, IsFixedByTheSeedAndMatchesTheNormalApproximation) {
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) v.push_back(i % 2);  // 50 ones, 50 zeros
  Interval a = BootstrapMean(v, 1000, 0.95, 7);
  Interval b = BootstrapMean(v, 1000, 0.95, 7);
  EXPECT_EQ(a.mean, 0.5);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  // The exact values this seed gives (mt19937_64, index = draw % n).
  EXPECT_DOUBLE_EQ(a.low, 0.40);
  EXPECT_DOUBLE_EQ(a.high, 0.60);
  // The normal approximation: 0.5 +- 1.96 * sqrt(0.25 / 100) = [0.402, 0.598].
  EXPECT_NEAR(a.low, 0.402, 0.03);
  EXPECT_NEAR(a.high, 0.598, 0.03);
}

TEST(VoteKey, IsTheAnswerSelfConsistencyVotesOn) {
  Item math;
  math.task = Task::kMath;
  EXPECT_EQ(VoteKey(math, "So 3 + 4 = 7. The answer is 7.00."), "7");
  EXPECT_EQ(VoteKey(math, "The answer is $1,250.5"), "1250.5");
  EXPECT_EQ(VoteKey(math, "I do not know."), "");
  Item choice;
  choice.task = Task::kChoice;
  choice.choices = {"Rome", "Paris", "Oslo"};
  EXPECT_EQ(VoteKey(choice, "The answer is (B)."), "B");
  EXPECT_EQ(VoteKey(choice, "None of them."), "");
  Item trivia;
  trivia.task = Task::kShort;
  EXPECT_EQ(VoteKey(trivia, "The Eiffel Tower!\nIt is in Paris."), "eiffel tower");
  Item code;
  code.task = Task::kCode;
  EXPECT_EQ(VoteKey(code, "def f(): pass"), "");
}

}  // namespace
}  // namespace specfuse::eval
