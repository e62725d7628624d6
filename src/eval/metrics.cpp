#include "eval/metrics.h"

#include "eval/code_answer.h"
#include "eval/math_answer.h"
#include "eval/short_answer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

namespace specfuse::eval {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// Letters, digits and every byte of a multi-byte UTF-8 character are word characters.
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); }

const std::map<std::string, std::string>& NumberWords() {
  static const std::map<std::string, std::string> words = {
      {"zero", "0"},     {"one", "1"},        {"two", "2"},       {"three", "3"},
      {"four", "4"},     {"five", "5"},       {"six", "6"},       {"seven", "7"},
      {"eight", "8"},    {"nine", "9"},       {"ten", "10"},      {"eleven", "11"},
      {"twelve", "12"},  {"thirteen", "13"},  {"fourteen", "14"}, {"fifteen", "15"},
      {"sixteen", "16"}, {"seventeen", "17"}, {"eighteen", "18"}, {"nineteen", "19"},
      {"twenty", "20"},  {"thirty", "30"},    {"forty", "40"},    {"fifty", "50"},
      {"sixty", "60"},   {"seventy", "70"},   {"eighty", "80"},   {"ninety", "90"},
      {"hundred", "100"}};
  return words;
}

// Reads a number starting at text[i] (a digit): thousands separators "1,000" and a
// decimal part "3.50"; returns it in one spelling and moves i past it.
std::string ReadNumber(const std::string& text, size_t& i) {
  std::string integer, fraction;
  while (i < text.size()) {
    if (IsDigit(text[i])) {
      integer += text[i++];
    } else if (text[i] == ',' && !integer.empty() && i + 3 < text.size() && IsDigit(text[i + 1]) &&
               IsDigit(text[i + 2]) && IsDigit(text[i + 3]) &&
               (i + 4 >= text.size() || !IsDigit(text[i + 4]))) {
      ++i;  // a thousands separator: exactly three digits follow
    } else {
      break;
    }
  }
  if (i + 1 < text.size() && text[i] == '.' && IsDigit(text[i + 1])) {
    ++i;
    while (i < text.size() && IsDigit(text[i])) fraction += text[i++];
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  size_t nz = integer.find_first_not_of('0');
  integer = nz == std::string::npos ? "0" : integer.substr(nz);
  return fraction.empty() ? integer : integer + "." + fraction;
}

std::vector<std::string> NGrams(const std::vector<std::string>& words, size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i + n <= words.size(); ++i) {
    std::string g;
    for (size_t k = 0; k < n; ++k) g += words[i + k] + '\x1f';
    out.push_back(g);
  }
  return out;
}

// Position of needle as adjacent words in haystack, or npos.
size_t FindWords(const std::vector<std::string>& haystack, const std::vector<std::string>& needle) {
  if (needle.empty() || needle.size() > haystack.size()) return std::string::npos;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), haystack.begin() + i)) return i;
  }
  return std::string::npos;
}

}  // namespace

std::vector<std::string> NormalizedWords(const std::string& text, bool drop_articles) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (IsDigit(c)) {
      bool negative = i > 0 && text[i - 1] == '-' && (i < 2 || !IsWordChar(text[i - 2]));
      std::string n = ReadNumber(text, i);
      words.push_back(negative && n != "0" ? "-" + n : n);
    } else if (IsWordChar(c)) {
      std::string w;
      while (i < text.size() && IsWordChar(text[i]) && !IsDigit(text[i])) {
        w += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i++])));
      }
      if (drop_articles && (w == "a" || w == "an" || w == "the")) continue;
      auto number = NumberWords().find(w);
      words.push_back(number != NumberWords().end() ? number->second : w);
    } else {
      ++i;
    }
  }
  return words;
}

std::string NormalizeAnswer(const std::string& text) {
  std::string out;
  for (const auto& w : NormalizedWords(text)) out += (out.empty() ? "" : " ") + w;
  return out;
}

bool ExactMatch(const std::string& response, const std::string& answer) {
  return NormalizeAnswer(response) == NormalizeAnswer(answer);
}

bool ContainsAnswer(const std::string& response, const std::string& answer) {
  return FindWords(NormalizedWords(response), NormalizedWords(answer)) != std::string::npos;
}

char ExtractChoice(const std::string& response, const std::vector<std::string>& choices) {
  const int n = static_cast<int>(choices.size());
  auto letter_at = [&](size_t i) -> char {
    if (i >= response.size()) return 0;
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(response[i])));
    if (c < 'A' || c >= 'A' + n) return 0;
    // The letter must stand alone: no word character right after it.
    if (i + 1 < response.size() && IsWordChar(response[i + 1])) return 0;
    return c;
  };
  std::string lower = response;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  // "answer is B", "answer: (B)", "option B", "choice B".
  for (const char* cue : {"answer is", "answer:", "option", "choice"}) {
    for (size_t at = lower.find(cue); at != std::string::npos; at = lower.find(cue, at + 1)) {
      size_t i = at + std::string(cue).size();
      while (i < response.size() && (response[i] == ' ' || response[i] == '(' || response[i] == '*' ||
                                     response[i] == ':' || response[i] == '"')) {
        ++i;
      }
      if (char c = letter_at(i); c && (i == 0 || !IsWordChar(response[i - 1]))) {
        // "answer is a ..." with a lowercase a is an article, not a choice.
        if (std::isupper(static_cast<unsigned char>(response[i]))) return c;
      }
    }
  }
  // A leading letter: "B", "B)", "B.", "(B)", "**B**".
  size_t start = 0;
  while (start < response.size() && !IsWordChar(response[start])) ++start;
  if (start < response.size() && std::isupper(static_cast<unsigned char>(response[start]))) {
    if (char c = letter_at(start)) {
      size_t next = start + 1;
      bool alone = next >= response.size() || response[next] == ')' || response[next] == '.' ||
                   response[next] == ':' || response[next] == ',' || response[next] == '*' ||
                   response[next] == '\n';
      if (alone) return c;
    }
  }
  // "(B)" or "B)" anywhere.
  for (size_t i = 0; i + 1 < response.size(); ++i) {
    if (response[i + 1] != ')' || !std::isupper(static_cast<unsigned char>(response[i]))) continue;
    if (i > 0 && IsWordChar(response[i - 1])) continue;
    if (char c = letter_at(i)) return c;
  }
  // The text of a choice; the earliest, then the longest.
  const auto words = NormalizedWords(response);
  size_t best_at = std::string::npos, best_len = 0;
  char best = 0;
  for (int k = 0; k < n; ++k) {
    auto cw = NormalizedWords(choices[k]);
    size_t at = FindWords(words, cw);
    if (at == std::string::npos) continue;
    if (best == 0 || at < best_at || (at == best_at && cw.size() > best_len)) {
      best = static_cast<char>('A' + k);
      best_at = at;
      best_len = cw.size();
    }
  }
  if (best) return best;
  // A bare capital letter standing alone.
  for (size_t i = 0; i < response.size(); ++i) {
    char c = response[i];
    if (c == 'A' || c == 'I' || !std::isupper(static_cast<unsigned char>(c))) continue;
    if (i > 0 && IsWordChar(response[i - 1])) continue;
    if (char l = letter_at(i)) return l;
  }
  return 0;
}

double RougeLF1(const std::string& candidate, const std::string& reference) {
  const auto c = NormalizedWords(candidate, false);
  const auto r = NormalizedWords(reference, false);
  if (c.empty() || r.empty()) return 0;
  std::vector<int> prev(r.size() + 1, 0), cur(r.size() + 1, 0);
  for (size_t i = 1; i <= c.size(); ++i) {
    for (size_t j = 1; j <= r.size(); ++j) {
      cur[j] = c[i - 1] == r[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  const double lcs = prev[r.size()];
  if (lcs == 0) return 0;
  const double p = lcs / static_cast<double>(c.size());
  const double rec = lcs / static_cast<double>(r.size());
  return 2 * p * rec / (p + rec);
}

double SentenceBleu(const std::string& candidate, const std::string& reference) {
  const auto c = NormalizedWords(candidate, false);
  const auto r = NormalizedWords(reference, false);
  if (c.empty() || r.empty()) return 0;
  double log_sum = 0;
  for (size_t n = 1; n <= 4; ++n) {
    std::map<std::string, int> ref_counts;
    for (const auto& g : NGrams(r, n)) ref_counts[g] += 1;
    std::map<std::string, int> cand_counts;
    const auto cand = NGrams(c, n);
    for (const auto& g : cand) cand_counts[g] += 1;
    int matches = 0;
    for (const auto& [g, count] : cand_counts) {
      auto it = ref_counts.find(g);
      if (it != ref_counts.end()) matches += std::min(count, it->second);
    }
    double total = static_cast<double>(cand.size());
    double p = n == 1 ? (total > 0 ? matches / total : 0) : (matches + 1.0) / (total + 1.0);
    if (p <= 0) return 0;
    log_sum += std::log(p);
  }
  const double cl = static_cast<double>(c.size()), rl = static_cast<double>(r.size());
  const double bp = cl > rl ? 1.0 : std::exp(1.0 - rl / cl);
  return bp * std::exp(log_sum / 4.0);
}

Result<ItemScore> ScoreResponse(const Item& item, const std::string& response) {
  ItemScore s;
  switch (item.task) {
    case Task::kArithmetic:
    case Task::kFactual:
      s.metrics["em"] = ExactMatch(response, item.answer) ? 1 : 0;
      s.metrics["contains"] = ContainsAnswer(response, item.answer) ? 1 : 0;
      s.score = s.metrics["contains"];
      break;
    case Task::kChoice:
      s.metrics["accuracy"] = ExtractChoice(response, item.choices) == item.answer[0] ? 1 : 0;
      s.score = s.metrics["accuracy"];
      break;
    case Task::kInstruction:
      s.metrics["rouge_l"] = RougeLF1(response, item.reference);
      s.metrics["bleu"] = SentenceBleu(response, item.reference);
      s.score = s.metrics["rouge_l"];
      break;
    case Task::kMath: {
      auto given = ExtractFinalNumber(response);
      s.metrics["accuracy"] = given && NumbersEqual(*given, item.answer) ? 1 : 0;
      s.score = s.metrics["accuracy"];
      break;
    }
    case Task::kShort:
      s.metrics["em"] = ShortExactMatch(response, item.answers);
      s.metrics["f1"] = ShortTokenF1(response, item.answers);
      s.metrics["contains"] = ShortContains(response, item.answers);
      s.score = s.metrics["em"];
      break;
    case Task::kCode: {
      auto run = RunCodeTests(item, response);
      if (!run.ok()) return run.status();
      s.metrics["pass@1"] = run->passed ? 1 : 0;
      s.metrics["timed_out"] = run->timed_out ? 1 : 0;
      s.score = s.metrics["pass@1"];
      break;
    }
  }
  return s;
}

std::string VoteKey(const Item& item, const std::string& response) {
  switch (item.task) {
    case Task::kMath: {
      auto n = ExtractFinalNumber(response);
      if (!n) return "";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", std::strtod(n->c_str(), nullptr));
      return buf;
    }
    case Task::kChoice: {
      char c = ExtractChoice(response, item.choices);
      return c ? std::string(1, c) : "";
    }
    case Task::kShort:
      return SquadNormalize(ShortAnswerOf(response));
    default:
      return "";
  }
}

const char* HeadlineMetric(Task task) {
  switch (task) {
    case Task::kArithmetic:
    case Task::kFactual:
      return "contains";
    case Task::kChoice:
      return "accuracy";
    case Task::kInstruction:
      return "rouge_l";
    case Task::kMath:
      return "accuracy";
    case Task::kShort:
      return "em";
    case Task::kCode:
      return "pass@1";
  }
  return "";
}

}  // namespace specfuse::eval
