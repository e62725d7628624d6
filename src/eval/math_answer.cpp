#include "eval/math_answer.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace specfuse::eval {

namespace {

bool Digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

struct Number {
  size_t begin = 0, end = 0;  // where it is written in the text
  std::string value;          // digits, an optional '-' and '.', without commas
};

// The number that starts at i (a digit, or '-' before a digit), if one does.
std::optional<Number> NumberAt(const std::string& s, size_t i) {
  Number n;
  n.begin = i;
  if (s[i] == '-') {
    if (i + 1 >= s.size() || !Digit(s[i + 1])) return std::nullopt;
    n.value = "-";
    ++i;
  }
  if (i >= s.size() || !Digit(s[i])) return std::nullopt;
  while (i < s.size()) {
    if (Digit(s[i])) {
      n.value += s[i++];
    } else if (s[i] == ',' && i + 3 < s.size() && Digit(s[i + 1]) && Digit(s[i + 2]) &&
               Digit(s[i + 3]) && (i + 4 >= s.size() || !Digit(s[i + 4]))) {
      i += 1;  // a thousands separator: exactly three digits follow
    } else {
      break;
    }
  }
  if (i + 1 < s.size() && s[i] == '.' && Digit(s[i + 1])) {
    n.value += s[i++];
    while (i < s.size() && Digit(s[i])) n.value += s[i++];
  }
  n.end = i;
  return n;
}

// Every number in s[from, to), left to right. A '-' counts as a sign only where it does
// not follow a word character ("3-4" is 3 and 4).
std::vector<Number> Numbers(const std::string& s, size_t from = 0, size_t to = std::string::npos) {
  std::vector<Number> out;
  to = std::min(to, s.size());
  for (size_t i = from; i < to;) {
    const bool starts = Digit(s[i]) || (s[i] == '-' && (i == 0 || !Alnum(s[i - 1])));
    if (starts && (i == 0 || !Digit(s[i - 1])) && (i == 0 || s[i - 1] != '.' || s[i] == '-')) {
      if (auto n = NumberAt(s, i)) {
        out.push_back(*n);
        i = n->end;
        continue;
      }
    }
    ++i;
  }
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The text of the last \boxed{...}, braces balanced.
std::optional<std::string> LastBoxed(const std::string& s) {
  const size_t at = s.rfind("\\boxed{");
  if (at == std::string::npos) return std::nullopt;
  int depth = 1;
  size_t i = at + 7;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] == '{') ++depth;
    if (s[j] == '}' && --depth == 0) return s.substr(i, j - i);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ExtractFinalNumber(const std::string& response) {
  const std::string lower = Lower(response);
  const size_t cue = lower.rfind("answer is");
  if (cue != std::string::npos) {
    // The first number after the cue, within the rest of its line.
    size_t line_end = response.find('\n', cue);
    auto after = Numbers(response, cue + 9, line_end);
    if (!after.empty()) return after.front().value;
  }
  if (auto boxed = LastBoxed(response)) {
    auto inside = Numbers(*boxed);
    if (!inside.empty()) return inside.back().value;
  }
  auto all = Numbers(response);
  if (all.empty()) return std::nullopt;
  return all.back().value;
}

bool NumbersEqual(const std::string& a, const std::string& b) {
  auto parse = [](const std::string& text) -> std::optional<long double> {
    auto numbers = Numbers(text);
    if (numbers.size() != 1) return std::nullopt;
    return std::strtold(numbers[0].value.c_str(), nullptr);
  };
  auto x = parse(a), y = parse(b);
  if (!x || !y) return false;
  return std::fabs(static_cast<double>(*x - *y)) <= 1e-6 * std::max(1.0, std::fabs(static_cast<double>(*y)));
}

}  // namespace specfuse::eval
