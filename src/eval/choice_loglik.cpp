// The log-likelihood protocol for multiple-choice items (the "cloze" form of the published
// SmolLM2 and lm-evaluation-harness numbers): the question alone, without its lettered
// options, is asked, and each option's text is scored as the answer by each member, as
// the mean log-probability of its tokens (length-normalized, so a long option is not
// penalized for its length). A member alone picks the option it finds likeliest; the
// vote normalizes each member's scores over the options and combines them with uniform
// weights, as the engine scores one round's candidates and best-of-n scores full answers.
// Nothing is generated. With the anchor gate at margin 0 the engine would pick the
// anchor's likeliest option, which is the anchor alone's pick: the vote is the ensemble
// without the gate.
#include <string>

#include "core/candidate_score.h"
#include "eval/methods.h"

namespace specfuse::eval {

std::vector<ChatMessage> ClozeMessages(const Item& item, const std::string& system) {
  std::vector<ChatMessage> m;
  if (!system.empty()) m.push_back({"system", system});
  m.push_back({"user", "Question: " + item.prompt + "\nAnswer with the answer alone."});
  return m;
}

Result<MethodRun> MethodRunner::ChoiceLoglik(const Method& method, const Item& item) {
  if (item.task != Task::kChoice || item.choices.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "method '" + method.name + "' scores the options of multiple-choice items; item '" +
                             item.id + "' has none");
  }
  if (loglik_item_ != item.id) {
    std::vector<std::shared_ptr<Model>> scorers;
    for (const auto& m : members_) scorers.push_back(m.model);
    auto ranked = RerankResponses(scorers, ClozeMessages(item, system_), item.choices, ScoreVariant::kLogprob);
    if (!ranked.ok()) return ranked.status();
    loglik_ = *ranked;
    loglik_item_ = item.id;
  }
  MethodRun r;
  int pick = loglik_.best;
  r.model_calls = loglik_.model_calls;
  r.combined = loglik_.combined;
  if (method.member != kAllMembers) {
    pick = ArgMax(loglik_.raw[method.member]);
    r.model_calls = 1;
    r.combined = loglik_.raw[method.member];
  }
  r.wall_ms = loglik_.wall_ms;
  r.finish_reason = "scored";
  r.chosen = std::string(1, static_cast<char>('A' + pick));
  r.answer = "The answer is (" + r.chosen + ").";
  return r;
}

}  // namespace specfuse::eval
