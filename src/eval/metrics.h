// Answer quality metrics: normalized exact match and containment for short answers,
// multiple-choice letter extraction, ROUGE-L F1 and sentence BLEU for free text.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "eval/dataset.h"

namespace specfuse::eval {

// Lowercase words of text: punctuation splits words and is dropped, numbers are written
// one way ("1,000" -> "1000", "42.0" -> "42", "-3.50" -> "-3.5", "seven" -> "7" for
// zero..twenty and the tens), and with drop_articles the words a, an, the are removed.
std::vector<std::string> NormalizedWords(const std::string& text, bool drop_articles = true);
// The normalized words joined by single spaces.
std::string NormalizeAnswer(const std::string& text);

// Normalized response equals normalized answer.
bool ExactMatch(const std::string& response, const std::string& answer);
// The normalized answer's words appear, in order and adjacent, in the normalized response.
bool ContainsAnswer(const std::string& response, const std::string& answer);

// The letter ('A'..) a response chose among choices, or 0 when it chose none. Tried in
// order: "answer is B" / "answer: B" / "option B"; a leading "B", "B)", "(B)", "B."; "(B)"
// or "B)" anywhere; the text of a choice (the earliest in the response); a bare capital
// letter standing alone (not "A" or "I", which are usually words).
char ExtractChoice(const std::string& response, const std::vector<std::string>& choices);

// ROUGE-L F1 (beta = 1) over normalized words, articles kept: LCS-based precision and
// recall, 0 when either text is empty.
double RougeLF1(const std::string& candidate, const std::string& reference);

// Sentence BLEU-4 over normalized words (articles kept), uniform weights, brevity
// penalty, smoothed as BLEU+1 (Lin & Och 2004): n-gram precisions for n = 2..4 are
// (matches + 1) / (n-grams + 1); the unigram precision is not smoothed, so a candidate
// with no word of the reference scores 0.
double SentenceBleu(const std::string& candidate, const std::string& reference);

// How a response scores on an item: `score` is the task's headline metric (contains for
// arithmetic and factual, accuracy for choice and math, ROUGE-L F1 for instruction, exact
// match for short, pass@1 for code), `metrics` every metric of the task by name (em,
// contains | accuracy | rouge_l, bleu | accuracy | em, f1, contains | pass@1, timed_out).
// Code runs the item's tests in the sandbox; an error means the sandbox could not run
// them (never that the code failed).
struct ItemScore {
  double score = 0;
  std::map<std::string, double> metrics;
};
Result<ItemScore> ScoreResponse(const Item& item, const std::string& response);

// What self-consistency votes on: the final number (math, as a canonical decimal), the
// chosen letter (choice), the normalized short answer (short); "" for the other tasks and
// for responses that give none.
std::string VoteKey(const Item& item, const std::string& response);

// The headline metric's name per task, for reports.
const char* HeadlineMetric(Task task);

}  // namespace specfuse::eval
