// The methods an evaluation compares on the same items: each member alone, SpecFuse with
// exit and Hedge weights on and off, best-of-n reranking of the members' full answers, and
// what a user would run instead of an ensemble: mixture-of-agents (the strongest member
// writes the final answer from every member's) and self-consistency (a majority vote over
// sampled answers of the strongest member). "Strongest" is the drafting member with the
// most parameters (the last of equals).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "specfuse/engine.h"
#include "specfuse/rerank.h"

namespace specfuse::eval {

// Method::member of the log-likelihood vote: every member.
constexpr size_t kAllMembers = static_cast<size_t>(-1);

struct Method {
  enum class Kind { kAlone, kSpecFuse, kBestOfN, kMixtureOfAgents, kSelfConsistency, kChoiceLoglik };
  // a member's name, "specfuse[-hedge][-noexit]", "best-of-n", "mixture-of-agents",
  // "self-consistency", "<member>-loglik" or "loglik-vote"
  std::string name;
  Kind kind = Kind::kAlone;
  size_t member = 0;  // kAlone, kChoiceLoglik: index into the members (kAllMembers: the vote)
  bool exit = true;   // kSpecFuse
  WeightsMode weights = WeightsMode::kUniform;
};

// Every method over these members, in report order: the drafting members alone, then
// specfuse, specfuse-noexit, specfuse-hedge, specfuse-hedge-noexit, best-of-n,
// mixture-of-agents, self-consistency.
std::vector<Method> AllMethods(const std::vector<Member>& members);
// The log-likelihood protocol of multiple-choice items (choice_loglik.cpp): every member
// alone, "<member>-loglik", then "loglik-vote". Named in --methods only: they score given
// options and apply to no other task.
std::vector<Method> LoglikMethods(const std::vector<Member>& members);
// The methods named in a comma-separated list (empty: all); an unknown name is an error
// that lists the known ones.
Result<std::vector<Method>> SelectMethods(const std::vector<Member>& members, const std::string& list);

// What one method did on one item.
struct MethodRun {
  std::string answer;
  int tokens = 0;       // output tokens of the answer
  int model_calls = 0;  // draft + verify calls (best-of-n: every member's calls + reranking)
  double wall_ms = 0;
  std::string finish_reason;
  // SpecFuse methods.
  int rounds = 0;
  int calls_saved_by_exit = 0;
  std::map<std::string, int> rounds_won;
  std::vector<int> active_per_round;  // models taking part in each round
  std::vector<std::string> trace;     // each round as RoundToJson, when the runner traces
  // best-of-n: each drafting member's full answer, its combined score, and the pick;
  // mixture-of-agents: the members' answers and the aggregator; self-consistency: the
  // samples, their vote keys, and the winning key.
  std::vector<std::string> responders, responses;
  std::vector<double> combined;
  std::string chosen;
  std::vector<std::string> votes;
};

// Self-consistency's samples and their temperature.
constexpr int kSelfConsistencySamples = 5;
constexpr float kSelfConsistencyTemperature = 0.7f;

// The steps every method shares. ForItem: the run's options with the item's answer budget
// and its task's stop strings. AskItem: the item's prompt answered after its task's
// response prefix. FromAnswer: what a method records of an answer (its text after the
// prefix).
// ItemMessages: the system message (when not empty) and the item's prompt.
EnsembleOptions ForItem(EnsembleOptions options, const Item& item);
// The log-likelihood protocol's messages: the question without its lettered options.
std::vector<ChatMessage> ClozeMessages(const Item& item, const std::string& system);
std::vector<ChatMessage> ItemMessages(const Item& item, const std::string& system);
Result<Answer> AskItem(Conversation* conversation, const Item& item, const std::string& system);
MethodRun FromAnswer(const Answer& answer, const Item& item);

// Runs methods on items with one loaded ensemble. Deterministic under the options' seed:
// every run of a (method, item) starts fresh contexts with the same seeds. Not
// thread-safe.
class MethodRunner {
 public:
  // system: a system message before every item's prompt ("" for none).
  MethodRunner(std::vector<Member> members, EnsembleOptions options, std::string system = "");
  Result<MethodRun> Run(const Method& method, const Item& item);
  // Keep every SpecFuse round (candidates, scores, winner) in MethodRun::trace.
  void set_trace(bool on) { trace_ = on; }

 private:
  Result<MethodRun> Alone(size_t member, const Item& item);
  // Every drafting member's answer alone into r (responders, responses, calls, time),
  // and each run into runs when given.
  Status CollectAlone(const Item& item, MethodRun* r, std::vector<MethodRun>* runs);
  Result<MethodRun> BestOfN(const Item& item);
  Result<MethodRun> MixtureOfAgents(const Item& item);
  Result<MethodRun> SelfConsistency(const Item& item);
  // Every member scores every option once per item; each log-likelihood method reads it.
  Result<MethodRun> ChoiceLoglik(const Method& method, const Item& item);
  size_t Strongest() const;
  std::vector<Member> members_;
  EnsembleOptions options_;
  std::string system_;
  bool trace_ = false;
  // Members' answers to the current item, reused by best-of-n (they are the same runs).
  std::string memo_item_;
  std::map<size_t, MethodRun> memo_;
  // The options' scores of the current item under the log-likelihood protocol.
  std::string loglik_item_;
  RerankResult loglik_;
};

}  // namespace specfuse::eval
