// The record of one ensemble answer, round by round: what every model proposed, how
// every verifier scored it, who won and who exited. It is what `--trace` prints, what
// the server returns and what the playground draws.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace specfuse {

struct TraceCandidate {
  std::string text;
  std::vector<std::string> models;  // drafters that proposed exactly this text
  int tokens = 0;                   // in the first drafter's tokenizer
  bool end_of_generation = false;
};

struct TraceScores {
  std::string verifier;
  std::vector<double> raw;         // per candidate
  std::vector<double> normalized;  // per candidate, sums to 1
  std::vector<bool> reused;        // taken from the verifier's own draft, not re-scored
  std::vector<double> mean_logprob;  // per candidate, whatever the score variant
  // Per candidate, the most negative (token log-probability - best token's log-probability)
  // over its tokens: 0 when every token is the verifier's favourite, or when not known.
  std::vector<double> worst_gap;
};

struct RoundTrace {
  int round = 0;  // from 1
  std::vector<TraceCandidate> candidates;
  std::vector<TraceScores> scores;           // empty when one candidate needed no vote
  std::map<std::string, double> weights;     // verifier weights used this round
  std::vector<double> combined;              // per candidate
  int winner = -1;                           // index into candidates
  std::string anchor;                        // the anchor gate's verifier; empty: no gate
  std::vector<bool> eligible;                // per candidate: passes the anchor's gates
  std::vector<std::string> active;           // models that took part in this round
  std::vector<std::string> exited;           // models that exited after this round
  std::vector<std::string> failed;           // "model: error" for members dropped on failure
  double exit_entropy = -1;                  // normalized entropy of the exit test; -1: not run
  bool solo = false;                         // one model generating alone
  double draft_ms = 0, verify_ms = 0, accept_ms = 0;
};

struct AnswerSummary {
  int rounds = 0;
  int model_calls = 0;            // draft calls + verify calls
  int calls_saved_by_exit = 0;    // calls exited models would have made
  int output_tokens = 0;          // in the winning drafters' tokenizers
  int prompt_tokens = 0;          // the largest prompt among the members
  double wall_ms = 0;
  double first_segment_ms = 0;
  std::string finish_reason;      // "stop" (end of generation or stop string), "length", "cancelled"
  std::map<std::string, int> rounds_won;
};

}  // namespace specfuse

namespace specfuse {

// One JSON object on one line: {"round": ..., "candidates": [...], ...}.
std::string RoundToJson(const RoundTrace& round);
// {"summary": {"rounds": ..., "model_calls": ..., ...}} on one line.
std::string SummaryToJson(const AnswerSummary& summary);

}  // namespace specfuse
