#include "eval/methods.h"

#include <sstream>

#include "specfuse/rerank.h"

namespace specfuse::eval {

// The options for one item: its own answer budget when it has one, its task's stops.
EnsembleOptions ForItem(EnsembleOptions o, const Item& item) {
  if (item.max_tokens > 0) o.max_tokens = item.max_tokens;
  for (auto& stop : TaskStops(item)) o.stop.push_back(stop);
  return o;
}

std::vector<ChatMessage> ItemMessages(const Item& item, const std::string& system) {
  std::vector<ChatMessage> m;
  if (!system.empty()) m.push_back({"system", system});
  m.push_back({"user", RenderPrompt(item)});
  return m;
}

// The item's question, answered after the task's response prefix.
Result<Answer> AskItem(Conversation* c, const Item& item, const std::string& system) {
  return c->ReplyAfter(ItemMessages(item, system), ResponsePrefix(item));
}

MethodRun FromAnswer(const Answer& a, const Item& item) {
  MethodRun r;
  r.answer = ResponsePrefix(item) + a.text;
  r.tokens = a.summary.output_tokens;
  r.model_calls = a.summary.model_calls;
  r.wall_ms = a.summary.wall_ms;
  r.finish_reason = a.summary.finish_reason;
  r.rounds = a.summary.rounds;
  r.calls_saved_by_exit = a.summary.calls_saved_by_exit;
  r.rounds_won = a.summary.rounds_won;
  for (const auto& round : a.rounds) r.active_per_round.push_back(static_cast<int>(round.active.size()));
  return r;
}

std::vector<Method> AllMethods(const std::vector<Member>& members) {
  std::vector<Method> out;
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].role == MemberRole::kVerifier) continue;
    Method m;
    m.name = members[i].model->name();
    m.kind = Method::Kind::kAlone;
    m.member = i;
    out.push_back(m);
  }
  for (WeightsMode w : {WeightsMode::kUniform, WeightsMode::kHedge}) {
    for (bool exit : {true, false}) {
      Method m;
      m.kind = Method::Kind::kSpecFuse;
      m.exit = exit;
      m.weights = w;
      m.name = std::string("specfuse") + (w == WeightsMode::kHedge ? "-hedge" : "") + (exit ? "" : "-noexit");
      out.push_back(m);
    }
  }
  for (auto [name, kind] : {std::pair{"best-of-n", Method::Kind::kBestOfN},
                            {"mixture-of-agents", Method::Kind::kMixtureOfAgents},
                            {"self-consistency", Method::Kind::kSelfConsistency}}) {
    Method m;
    m.name = name;
    m.kind = kind;
    out.push_back(m);
  }
  return out;
}

std::vector<Method> LoglikMethods(const std::vector<Member>& members) {
  std::vector<Method> out;
  for (size_t i = 0; i <= members.size(); ++i) {
    Method m;
    m.kind = Method::Kind::kChoiceLoglik;
    m.member = i < members.size() ? i : kAllMembers;
    m.name = i < members.size() ? members[i].model->name() + "-loglik" : "loglik-vote";
    out.push_back(m);
  }
  return out;
}

Result<std::vector<Method>> SelectMethods(const std::vector<Member>& members, const std::string& list) {
  auto all = AllMethods(members);
  if (list.empty()) return all;
  for (auto& m : LoglikMethods(members)) all.push_back(std::move(m));
  std::vector<Method> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.empty()) continue;
    bool found = false;
    for (const auto& m : all) {
      if (m.name != name) continue;
      found = true;
      bool dup = false;
      for (const auto& o : out) dup = dup || o.name == name;
      if (!dup) out.push_back(m);
    }
    if (!found) {
      std::string known;
      for (const auto& m : all) known += (known.empty() ? "" : ", ") + m.name;
      return Status::Error(ErrorCode::kInvalidArgument,
                           "unknown method '" + name + "'; the methods are: " + known);
    }
  }
  if (out.empty()) return Status::Error(ErrorCode::kInvalidArgument, "--methods names no method");
  return out;
}

MethodRunner::MethodRunner(std::vector<Member> members, EnsembleOptions options, std::string system)
    : members_(std::move(members)), options_(std::move(options)), system_(std::move(system)) {}

Result<MethodRun> MethodRunner::Alone(size_t member, const Item& item) {
  if (memo_item_ != item.id) {
    memo_.clear();
    memo_item_ = item.id;
  }
  auto it = memo_.find(member);
  if (it != memo_.end()) return it->second;
  Conversation c({members_[member]}, ForItem(options_, item));
  auto a = AskItem(&c, item, system_);
  if (!a.ok()) return a.status();
  MethodRun r = FromAnswer(*a, item);
  memo_[member] = r;
  return r;
}

Result<MethodRun> MethodRunner::Run(const Method& method, const Item& item) {
  switch (method.kind) {
    case Method::Kind::kAlone:
      return Alone(method.member, item);
    case Method::Kind::kSpecFuse: {
      EnsembleOptions o = ForItem(options_, item);
      o.exit.enabled = method.exit;
      o.weights = method.weights;
      Conversation c(members_, o);
      auto a = AskItem(&c, item, system_);
      if (!a.ok()) return a.status();
      MethodRun r = FromAnswer(*a, item);
      if (trace_) {
        for (const auto& round : a->rounds) r.trace.push_back(RoundToJson(round));
      }
      return r;
    }
    case Method::Kind::kBestOfN:
      return BestOfN(item);
    case Method::Kind::kMixtureOfAgents:
      return MixtureOfAgents(item);
    case Method::Kind::kSelfConsistency:
      return SelfConsistency(item);
    case Method::Kind::kChoiceLoglik:
      return ChoiceLoglik(method, item);
  }
  return Status::Error(ErrorCode::kInternal, "unknown method kind");
}

Status MethodRunner::CollectAlone(const Item& item, MethodRun* r, std::vector<MethodRun>* runs) {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].role == MemberRole::kVerifier) continue;
    auto alone = Alone(i, item);
    if (!alone.ok()) return alone.status();
    r->responders.push_back(members_[i].model->name());
    r->responses.push_back(alone->answer);
    r->model_calls += alone->model_calls;
    r->wall_ms += alone->wall_ms;
    if (runs) runs->push_back(*alone);
  }
  return Status::Ok();
}

Result<MethodRun> MethodRunner::BestOfN(const Item& item) {
  MethodRun r;
  std::vector<MethodRun> runs;
  Status collected = CollectAlone(item, &r, &runs);
  if (!collected.ok()) return collected;
  std::vector<std::shared_ptr<Model>> verifiers;
  for (const auto& m : members_) {
    if (m.role != MemberRole::kDrafter) verifiers.push_back(m.model);
  }
  auto ranked = RerankResponses(verifiers, ItemMessages(item, system_), r.responses, options_.score);
  if (!ranked.ok()) return ranked.status();
  r.model_calls += ranked->model_calls;
  r.wall_ms += ranked->wall_ms;
  r.combined = ranked->combined;
  const int best = ranked->best;
  r.answer = r.responses[best];
  r.tokens = runs[best].tokens;
  r.finish_reason = runs[best].finish_reason;
  r.chosen = r.responders[best];
  return r;
}

}  // namespace specfuse::eval
