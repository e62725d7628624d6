// Short answers with aliases (TriviaQA): SQuAD-style normalization, exact match and token
// F1, best over the aliases.
#pragma once

#include <string>
#include <vector>

namespace specfuse::eval {

// SQuAD's normalization: lower case, ASCII punctuation removed, the words a, an, the
// removed, whitespace collapsed to single spaces.
std::string SquadNormalize(const std::string& text);

// The answer a chat response gives: its first non-empty line, without a leading
// "Answer:" or "The answer is" and without surrounding "**" emphasis.
std::string ShortAnswerOf(const std::string& response);

// 1 when the normalized answer of the response equals a normalized alias, else 0.
double ShortExactMatch(const std::string& response, const std::vector<std::string>& aliases);
// The best token F1 between the normalized answer of the response and an alias.
double ShortTokenF1(const std::string& response, const std::vector<std::string>& aliases);
// 1 when a normalized alias appears as whole words in the normalized response (all of it,
// not only its first line).
double ShortContains(const std::string& response, const std::vector<std::string>& aliases);

}  // namespace specfuse::eval
