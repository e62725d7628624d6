// The SpecFuse engine: answers a query in rounds of parallel drafting, cross-model
// verification, broadcast of the winner and model exit (DESIGN §2).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "specfuse/ensemble_options.h"
#include "specfuse/model.h"
#include "specfuse/status.h"
#include "specfuse/trace.h"

namespace specfuse {

enum class MemberRole {
  kBoth,      // drafts and verifies (the paper's setting)
  kDrafter,   // drafts only
  kVerifier,  // verifies only; still follows the query and the accepted answer
};

Result<MemberRole> ParseMemberRole(const std::string& name);  // both|drafter|verifier
const char* MemberRoleName(MemberRole role);

struct Member {
  std::shared_ptr<Model> model;
  MemberRole role = MemberRole::kBoth;
  float temperature = -1.0f;  // < 0: the ensemble's sampling temperature
  double weight = 0.0;        // > 0: this verifier's prior weight; else from size_prior
};

// The verifiers' starting weights (before normalization over those that vote): a member's
// own weight when set, else parameter_count^size_prior (1 when the prior is 0 or the count
// unknown). With size_prior > 0, larger models count for more: a much weaker member
// cannot outvote a strong one by being confident in its own draft.
std::vector<double> PriorWeights(const std::vector<Member>& members, double size_prior);

// Called with each accepted segment as soon as its round ends. Return false to cancel.
using SegmentCallback = std::function<bool(const std::string& segment, const RoundTrace& round)>;

struct Answer {
  std::string text;
  std::vector<RoundTrace> rounds;
  AnswerSummary summary;
};

// A conversation with an ensemble: keeps every member's context between turns.
// Not thread-safe; use one Conversation per thread. Different Conversations over the same
// members may run concurrently (each holds its own sequences).
class Conversation {
 public:
  Conversation(std::vector<Member> members, EnsembleOptions options);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  // Adds a user message and answers it; the answer joins the conversation. Errors:
  // invalid options, a prompt longer than a member's context, every drafter failing.
  // A callback that returns false ends the answer early with finish_reason "cancelled";
  // what was accepted until then is returned and kept.
  Result<Answer> Ask(const std::string& user_message, const SegmentCallback& on_segment = nullptr);

  // Answers exactly these messages (the last one from the user), replacing the history.
  Result<Answer> Reply(const std::vector<ChatMessage>& messages,
                       const SegmentCallback& on_segment = nullptr);

  // As Reply, with the assistant's answer begun by `response_prefix` (a prefill): every
  // member's context receives the prefix after the prompt, the rounds continue it, and
  // the answer's text is what follows the prefix (the history keeps both).
  Result<Answer> ReplyAfter(const std::vector<ChatMessage>& messages, const std::string& response_prefix,
                            const SegmentCallback& on_segment = nullptr);

  // Continues raw text (no chat template) with the ensemble: a text completion. The
  // conversation's history is left as it was.
  Result<Answer> Complete(const std::string& prompt, const SegmentCallback& on_segment = nullptr);

  const std::vector<ChatMessage>& history() const { return history_; }
  EnsembleOptions& options() { return options_; }

 private:
  // The rounds of one answer; raw_prompt non-empty means a text completion.
  Result<Answer> Run(const std::vector<ChatMessage>& messages, const std::string& raw_prompt,
                     const std::string& response_prefix, const SegmentCallback& on_segment);

  struct State;
  std::vector<Member> members_;
  EnsembleOptions options_;
  std::vector<ChatMessage> history_;
  std::unique_ptr<State> state_;
};

}  // namespace specfuse
