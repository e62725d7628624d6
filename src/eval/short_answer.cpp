#include "eval/short_answer.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

namespace specfuse::eval {

namespace {

std::vector<std::string> Words(const std::string& normalized) {
  std::vector<std::string> out;
  std::istringstream in(normalized);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool StartsWithNoCase(const std::string& s, const std::string& prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n*");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n*");
  return s.substr(b, e - b + 1);
}

double F1(const std::vector<std::string>& pred, const std::vector<std::string>& gold) {
  if (pred.empty() || gold.empty()) return pred == gold ? 1.0 : 0.0;
  std::map<std::string, int> counts;
  for (const auto& w : gold) counts[w] += 1;
  int common = 0;
  for (const auto& w : pred) {
    auto it = counts.find(w);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double p = static_cast<double>(common) / pred.size();
  const double r = static_cast<double>(common) / gold.size();
  return 2 * p * r / (p + r);
}

}  // namespace

std::string SquadNormalize(const std::string& text) {
  std::string kept;
  for (char c : text) {
    if (std::ispunct(static_cast<unsigned char>(c))) continue;
    kept += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string out;
  for (const auto& w : Words(kept)) {
    if (w == "a" || w == "an" || w == "the") continue;
    out += (out.empty() ? "" : " ") + w;
  }
  return out;
}

std::string ShortAnswerOf(const std::string& response) {
  std::istringstream in(response);
  std::string line;
  while (std::getline(in, line) && Trim(line).empty()) {
  }
  line = Trim(line);
  for (const char* cue : {"the answer is", "answer:"}) {
    if (StartsWithNoCase(line, cue)) {
      line = Trim(line.substr(std::string(cue).size()));
      break;
    }
  }
  return line;
}

double ShortExactMatch(const std::string& response, const std::vector<std::string>& aliases) {
  const std::string answer = SquadNormalize(ShortAnswerOf(response));
  for (const auto& a : aliases) {
    if (answer == SquadNormalize(a)) return 1.0;
  }
  return 0.0;
}

double ShortTokenF1(const std::string& response, const std::vector<std::string>& aliases) {
  const auto answer = Words(SquadNormalize(ShortAnswerOf(response)));
  double best = 0.0;
  for (const auto& a : aliases) best = std::max(best, F1(answer, Words(SquadNormalize(a))));
  return best;
}

double ShortContains(const std::string& response, const std::vector<std::string>& aliases) {
  const std::string text = " " + SquadNormalize(response) + " ";
  for (const auto& a : aliases) {
    const std::string alias = SquadNormalize(a);
    if (!alias.empty() && text.find(" " + alias + " ") != std::string::npos) return 1.0;
  }
  return 0.0;
}

}  // namespace specfuse::eval
