// The final answer of a math response (GSM8K): where it is read from and how numbers
// compare.
#pragma once

#include <optional>
#include <string>

namespace specfuse::eval {

// The number a response gives as its final answer, tried in order: the number after the
// last "answer is" ("The answer is $1,200." -> "1200"), the number in the last \boxed{},
// the last number in the response. Commas between digit groups, '$' and trailing units
// are dropped; the result is the number as written ("18.00" stays "18.00"). nullopt when
// the response holds no number.
std::optional<std::string> ExtractFinalNumber(const std::string& response);

// Whether two texts that each hold exactly one number are equal as numbers: "18",
// "18.00", "$18" and "18 dollars" are equal; "1,000" is 1000 (a comma separates groups of
// three digits). False when either holds no number or several.
bool NumbersEqual(const std::string& a, const std::string& b);

}  // namespace specfuse::eval
