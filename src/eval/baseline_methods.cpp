// What a user would run instead of an ensemble: mixture-of-agents and self-consistency
// (eval/methods.h).
#include <map>

#include "eval/methods.h"
#include "eval/metrics.h"

namespace specfuse::eval {

namespace {

// Together's mixture-of-agents aggregation instruction (Wang et al. 2024), as a system
// message before the original question.
std::string AggregatorSystem(const std::vector<std::string>& responses) {
  std::string s =
      "You have been provided with a set of responses from various open-source models to the latest "
      "user query. Your task is to synthesize these responses into a single, high-quality response. It "
      "is crucial to critically evaluate the information provided in these responses, recognizing that "
      "some of it may be biased or incorrect. Your response should not simply replicate the given "
      "answers but should offer a refined, accurate, and comprehensive reply to the instruction. Ensure "
      "your response is well-structured, coherent, and adheres to the highest standards of accuracy and "
      "reliability.\n\nResponses from models:";
  for (size_t i = 0; i < responses.size(); ++i) s += "\n" + std::to_string(i + 1) + ". " + responses[i];
  return s;
}

}  // namespace

size_t MethodRunner::Strongest() const {
  size_t best = members_.size();
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].role == MemberRole::kVerifier) continue;
    if (best == members_.size() ||
        members_[i].model->parameter_count() >= members_[best].model->parameter_count()) {
      best = i;
    }
  }
  return best;
}

Result<MethodRun> MethodRunner::MixtureOfAgents(const Item& item) {
  MethodRun r;
  Status collected = CollectAlone(item, &r, nullptr);
  if (!collected.ok()) return collected;
  const size_t agg = Strongest();
  Conversation c({members_[agg]}, ForItem(options_, item));
  const std::string system = (system_.empty() ? "" : system_ + "\n\n") + AggregatorSystem(r.responses);
  auto a = c.ReplyAfter(ItemMessages(item, system), ResponsePrefix(item));
  if (!a.ok()) return a.status();
  MethodRun final_run = FromAnswer(*a, item);
  final_run.responders = std::move(r.responders);
  final_run.responses = std::move(r.responses);
  final_run.model_calls += r.model_calls;
  final_run.wall_ms += r.wall_ms;
  final_run.chosen = members_[agg].model->name();
  return final_run;
}

Result<MethodRun> MethodRunner::SelfConsistency(const Item& item) {
  const size_t best = Strongest();
  MethodRun r;
  std::vector<MethodRun> samples;
  std::map<std::string, int> counts;
  for (int k = 0; k < kSelfConsistencySamples; ++k) {
    EnsembleOptions o = ForItem(options_, item);
    o.sampling.temperature = kSelfConsistencyTemperature;
    o.sampling.seed = options_.sampling.seed + 1000003ULL * static_cast<uint64_t>(k + 1);
    Member m = members_[best];
    m.temperature = -1.0f;
    Conversation c({m}, o);
    auto a = AskItem(&c, item, system_);
    if (!a.ok()) return a.status();
    samples.push_back(FromAnswer(*a, item));
    r.responses.push_back(samples.back().answer);
    r.votes.push_back(VoteKey(item, samples.back().answer));
    if (!r.votes.back().empty()) counts[r.votes.back()] += 1;
    r.model_calls += samples.back().model_calls;
    r.wall_ms += samples.back().wall_ms;
    r.tokens += samples.back().tokens;
  }
  // The most frequent key, the earliest sample on ties; no keys at all: the first sample.
  size_t pick = 0;
  int top = 0;
  for (size_t k = 0; k < samples.size(); ++k) {
    const auto it = counts.find(r.votes[k]);
    if (it != counts.end() && it->second > top) {
      top = it->second;
      pick = k;
    }
  }
  r.answer = samples[pick].answer;
  r.finish_reason = samples[pick].finish_reason;
  r.chosen = r.votes[pick];
  return r;
}

}  // namespace specfuse::eval
