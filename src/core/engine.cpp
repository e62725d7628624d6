#include "specfuse/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/anchor.h"
#include "core/candidate_score.h"
#include "core/hedge.h"
#include "core/model_exit.h"
#include "core/segment_cut.h"
#include "core/utf8.h"

namespace specfuse {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Runs fn(i) for each i in items on its own thread: one thread per model.
template <typename Fn>
void ForEachParallel(const std::vector<size_t>& items, Fn fn) {
  if (items.size() == 1) {
    fn(items[0]);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(items.size());
  for (size_t i : items) threads.emplace_back([&fn, i] { fn(i); });
  for (auto& t : threads) t.join();
}

bool Drafts(MemberRole r) { return r != MemberRole::kVerifier; }
bool Verifies(MemberRole r) { return r != MemberRole::kDrafter; }

// How many of a draft's tokens spell exactly `text`, or -1 when text does not end on a
// token boundary of the draft.
int AlignedTokens(const Draft& draft, const std::string& text) {
  size_t at = 0;
  int n = 0;
  while (at < text.size() && n < static_cast<int>(draft.tokens.size())) {
    const std::string& piece = draft.tokens[n].piece;
    if (text.compare(at, piece.size(), piece) != 0) return -1;
    at += piece.size();
    ++n;
  }
  return at == text.size() ? n : -1;
}

// The error of a round in which every drafter failed: the first one's reason, and its
// code when all of them failed for the same reason kind (a request none could draft, such
// as a grammar that admits no text, is the caller's to fix), else unavailable.
Status DraftersFailed(const std::vector<size_t>& drafters, const std::vector<Result<Draft>>& drafts,
                      const std::vector<Member>& members) {
  const Status& first = drafts[drafters[0]].status();
  ErrorCode code = first.code();
  for (size_t i : drafters) {
    if (drafts[i].status().code() != code) code = ErrorCode::kUnavailable;
  }
  if (code != ErrorCode::kInvalidArgument) code = ErrorCode::kUnavailable;
  return Status::Error(code, "every drafter of the ensemble failed; " +
                                 members[drafters[0]].model->name() + ": " + first.message());
}

}  // namespace

Result<MemberRole> ParseMemberRole(const std::string& name) {
  if (name == "both") return MemberRole::kBoth;
  if (name == "drafter") return MemberRole::kDrafter;
  if (name == "verifier") return MemberRole::kVerifier;
  return Status::Error(ErrorCode::kInvalidArgument,
                       "unknown member role '" + name + "'; use both, drafter or verifier");
}

const char* MemberRoleName(MemberRole role) {
  switch (role) {
    case MemberRole::kBoth: return "both";
    case MemberRole::kDrafter: return "drafter";
    case MemberRole::kVerifier: return "verifier";
  }
  return "?";
}

std::vector<double> PriorWeights(const std::vector<Member>& members, double size_prior) {
  std::vector<double> w(members.size(), 1.0);
  double total = 0.0;
  for (size_t i = 0; i < members.size(); ++i) {
    const int64_t params = members[i].model ? members[i].model->parameter_count() : 0;
    if (members[i].weight > 0) w[i] = members[i].weight;
    else if (size_prior > 0 && params > 0) w[i] = std::pow(static_cast<double>(params) / 1e9, size_prior);
    total += w[i];
  }
  for (double& x : w) x /= total;
  return w;
}

struct Conversation::State {
  std::vector<std::unique_ptr<Sequence>> sequences;  // one per member, kept across turns
};

Conversation::Conversation(std::vector<Member> members, EnsembleOptions options)
    : members_(std::move(members)), options_(std::move(options)), state_(std::make_unique<State>()) {
  state_->sequences.resize(members_.size());
}

Conversation::~Conversation() = default;

Result<Answer> Conversation::Ask(const std::string& user_message, const SegmentCallback& on_segment) {
  std::vector<ChatMessage> messages = history_;
  messages.push_back({"user", user_message});
  return Reply(messages, on_segment);
}

Result<Answer> Conversation::Reply(const std::vector<ChatMessage>& messages,
                                   const SegmentCallback& on_segment) {
  return ReplyAfter(messages, "", on_segment);
}

Result<Answer> Conversation::ReplyAfter(const std::vector<ChatMessage>& messages,
                                        const std::string& response_prefix,
                                        const SegmentCallback& on_segment) {
  if (messages.empty()) return Status::Error(ErrorCode::kInvalidArgument, "no messages to answer");
  auto answer = Run(messages, "", response_prefix, on_segment);
  if (answer.ok()) {
    history_ = messages;
    history_.push_back({"assistant", response_prefix + answer->text});
  }
  return answer;
}

Result<Answer> Conversation::Complete(const std::string& prompt, const SegmentCallback& on_segment) {
  if (prompt.empty()) return Status::Error(ErrorCode::kInvalidArgument, "the prompt is empty");
  return Run({}, prompt, "", on_segment);
}

Result<Answer> Conversation::Run(const std::vector<ChatMessage>& messages, const std::string& raw_prompt,
                                 const std::string& response_prefix, const SegmentCallback& on_segment) {
  const auto t_start = Clock::now();
  Status valid = Validate(options_);
  if (!valid.ok()) return valid;
  const size_t n = members_.size();
  if (n == 0) return Status::Error(ErrorCode::kInvalidArgument, "the ensemble has no members");
  if (std::none_of(members_.begin(), members_.end(), [](const Member& m) { return Drafts(m.role); })) {
    return Status::Error(ErrorCode::kInvalidArgument, "the ensemble needs at least one drafter");
  }
  if (!options_.sampling.grammar.empty()) {
    for (const Member& m : members_) {
      if (Drafts(m.role) && !m.model->constrains_drafts()) {
        return Status::Error(ErrorCode::kInvalidArgument,
                             "member '" + m.model->name() +
                                 "' cannot draft under a grammar; make it a verifier");
      }
    }
  }

  // Open or re-synchronize every member's context, all at once.
  std::vector<Status> start_status(n);
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  ForEachParallel(all, [&](size_t i) {
    auto& seq = state_->sequences[i];
    if (!raw_prompt.empty()) seq.reset();  // a text completion always starts afresh
    if (seq) {
      start_status[i] = seq->Sync(messages);
      if (start_status[i].ok()) return;
      seq.reset();
    }
    SamplingOptions s = options_.sampling;
    if (members_[i].temperature >= 0) s.temperature = members_[i].temperature;
    s.seed = options_.sampling.seed + 7919 * i;
    if (!Drafts(members_[i].role)) s.grammar.clear();  // verifiers score any text
    auto started = raw_prompt.empty() ? members_[i].model->Start(messages, s)
                                      : members_[i].model->StartText(raw_prompt, s);
    if (started.ok()) seq = std::move(started).value();
    else start_status[i] = started.status();
  });
  if (!response_prefix.empty()) {
    ForEachParallel(all, [&](size_t i) {
      if (start_status[i].ok()) start_status[i] = state_->sequences[i]->Accept(response_prefix);
    });
  }
  for (size_t i = 0; i < n; ++i) {
    if (!start_status[i].ok()) {
      for (auto& s : state_->sequences) s.reset();
      return start_status[i];
    }
  }

  Answer answer;
  AnswerSummary& sum = answer.summary;
  for (auto& seq : state_->sequences) sum.prompt_tokens = std::max(sum.prompt_tokens, seq->ContextTokens());

  std::vector<bool> active(n, true);
  std::vector<bool> exited(n, false);
  std::vector<double> quality(n, 0.0);
  std::vector<double> weights = PriorWeights(members_, options_.size_prior);
  const bool gated = options_.anchor_margin >= 0 || options_.anchor_token_margin >= 0;
  const int anchor = gated ? AnchorMember(members_) : -1;
  size_t max_stop = 0;
  for (const auto& s : options_.stop) max_stop = std::max(max_stop, s.size());

  for (int round = 1; sum.finish_reason.empty(); ++round) {
    RoundTrace trace;
    trace.round = round;
    std::vector<size_t> drafters, participants;
    for (size_t i = 0; i < n; ++i) {
      if (!active[i]) continue;
      if (Drafts(members_[i].role)) drafters.push_back(i);
    }
    if (drafters.empty()) {
      return Status::Error(ErrorCode::kUnavailable, "every drafter of the ensemble failed");
    }
    trace.solo = drafters.size() == 1;
    for (size_t i = 0; i < n; ++i) {
      if (active[i] && (!trace.solo || i == drafters[0])) participants.push_back(i);
    }
    for (size_t i : participants) trace.active.push_back(members_[i].model->name());
    for (size_t i = 0; i < n; ++i) {
      if (exited[i]) sum.calls_saved_by_exit += Drafts(members_[i].role) + Verifies(members_[i].role);
    }

    int budget = std::min(options_.segment_tokens, options_.max_tokens - sum.output_tokens);
    std::vector<Result<Draft>> drafts(n, Status::Error(ErrorCode::kInternal, "not drafted"));
    std::vector<std::string> failures(n);
    auto t0 = Clock::now();
    ForEachParallel(drafters, [&](size_t i) { drafts[i] = state_->sequences[i]->DraftTokens(budget); });
    trace.draft_ms = MsSince(t0);
    sum.model_calls += static_cast<int>(drafters.size());

    // Cut each draft and gather the distinct candidates, in member order.
    std::vector<int> candidate_of(n, -1);
    std::vector<int> aligned_of(n, -1);  // draft tokens spelling the member's own candidate
    std::vector<std::string> cut(n);
    bool someone_ended = false;
    for (size_t i : drafters) {
      if (!drafts[i].ok()) {
        failures[i] = drafts[i].status().message();
        continue;
      }
      const Draft& d = *drafts[i];
      std::string text = d.Text();
      cut[i] = trace.solo ? text.substr(0, CompleteUtf8Prefix(text))
                          : CutAtWordBoundary(text, d.end_of_generation);
      if (d.end_of_generation && cut[i].empty()) someone_ended = true;
      if (cut[i].empty()) continue;
      aligned_of[i] = AlignedTokens(d, cut[i]);
      int c = -1;
      for (size_t k = 0; k < trace.candidates.size(); ++k) {
        if (trace.candidates[k].text == cut[i]) c = static_cast<int>(k);
      }
      if (c < 0) {
        c = static_cast<int>(trace.candidates.size());
        TraceCandidate tc;
        tc.text = cut[i];
        tc.tokens = aligned_of[i] >= 0 ? aligned_of[i] : state_->sequences[i]->CountTokens(cut[i]);
        trace.candidates.push_back(tc);
      }
      trace.candidates[c].models.push_back(members_[i].model->name());
      // The cut keeps a draft whole only when it ended, so ended-ness carries over.
      if (d.end_of_generation && cut[i] == text) trace.candidates[c].end_of_generation = true;
      candidate_of[i] = c;
    }
    const size_t n_cand = trace.candidates.size();
    if (n_cand == 0) {
      sum.finish_reason = someone_ended ? "stop" : "length";
      for (size_t i = 0; i < n; ++i) {
        if (!failures[i].empty()) {
          trace.failed.push_back(members_[i].model->name() + ": " + failures[i]);
          active[i] = false;
        }
      }
      if (std::none_of(drafters.begin(), drafters.end(), [&](size_t i) { return active[i]; })) {
        return DraftersFailed(drafters, drafts, members_);
      }
      break;
    }

    // Verify: every active verifier scores every distinct candidate in one batch,
    // reusing its own draft's probabilities for its own candidate.
    t0 = Clock::now();
    std::vector<std::vector<double>> normalized_by_member(n);
    if (n_cand > 1) {
      std::vector<size_t> verifiers;
      for (size_t i : participants) {
        if (Verifies(members_[i].role) && failures[i].empty()) verifiers.push_back(i);
      }
      std::vector<TraceScores> scores(n);
      std::vector<int> calls(n, 0);
      ForEachParallel(verifiers, [&](size_t v) {
        TraceScores& ts = scores[v];
        ts.verifier = members_[v].model->name();
        ts.raw.assign(n_cand, 0.0);
        ts.reused.assign(n_cand, false);
        ts.mean_logprob.assign(n_cand, 0.0);
        ts.worst_gap.assign(n_cand, 0.0);
        std::vector<std::string> to_score;
        std::vector<size_t> index;
        for (size_t c = 0; c < n_cand; ++c) {
          if (candidate_of[v] == static_cast<int>(c)) {
            const int aligned = aligned_of[v];
            if (aligned > 0) {
              std::vector<float> lp, lg, best;
              for (int k = 0; k < aligned; ++k) {
                lp.push_back(drafts[v]->tokens[k].logprob);
                lg.push_back(drafts[v]->tokens[k].logit);
                best.push_back(drafts[v]->tokens[k].best_logprob);
              }
              ts.raw[c] = RawScore(lp, lg, options_.score);
              ts.mean_logprob[c] = RawScore(lp, lg, ScoreVariant::kLogprob);
              ts.worst_gap[c] = WorstTokenGap(lp, best);
              ts.reused[c] = true;
              continue;
            }
          }
          to_score.push_back(trace.candidates[c].text);
          index.push_back(c);
        }
        if (!to_score.empty()) {
          calls[v] = 1;
          auto scored = state_->sequences[v]->Score(to_score);
          if (!scored.ok()) {
            failures[v] = scored.status().message();
            return;
          }
          for (size_t k = 0; k < index.size(); ++k) {
            const CandidateScore& st = (*scored)[k];
            ts.raw[index[k]] = RawScore(st.logprobs, st.logits, options_.score);
            ts.mean_logprob[index[k]] = RawScore(st.logprobs, st.logits, ScoreVariant::kLogprob);
            ts.worst_gap[index[k]] = WorstTokenGap(st.logprobs, st.best_logprobs);
          }
        }
        ts.normalized = NormalizeScores(ts.raw, options_.score);
      });
      double total_w = 0.0;
      for (size_t v : verifiers) {
        sum.model_calls += calls[v];
        if (failures[v].empty()) total_w += weights[v];
      }
      std::vector<std::vector<double>> rows;
      std::vector<double> row_w;
      for (size_t v : verifiers) {
        if (!failures[v].empty()) continue;
        double w = total_w > 0 ? weights[v] / total_w : 0.0;
        trace.weights[members_[v].model->name()] = w;
        rows.push_back(scores[v].normalized);
        row_w.push_back(w);
        normalized_by_member[v] = scores[v].normalized;
        if (static_cast<int>(v) == anchor) {
          trace.anchor = members_[v].model->name();
          trace.eligible = AnchorEligible(scores[v].mean_logprob, scores[v].worst_gap,
                                          options_.anchor_margin, options_.anchor_token_margin);
        }
        trace.scores.push_back(std::move(scores[v]));
      }
      if (rows.empty()) {
        return Status::Error(ErrorCode::kUnavailable, "every verifier of the ensemble failed");
      }
      trace.combined = CombineScores(rows, row_w);
    } else {
      trace.combined = {1.0};
    }
    trace.winner = trace.eligible.empty() ? ArgMax(trace.combined)
                                          : GatedArgMax(trace.combined, trace.eligible);
    trace.verify_ms = MsSince(t0);

    for (size_t i = 0; i < n; ++i) {
      if (!failures[i].empty()) {
        trace.failed.push_back(members_[i].model->name() + ": " + failures[i]);
        active[i] = false;
      }
    }
    for (size_t i : drafters) {
      if (candidate_of[i] >= 0) quality[i] += trace.combined[candidate_of[i]];
    }
    if (options_.weights == WeightsMode::kHedge && n_cand > 1) {
      HedgeUpdate(&weights, HedgeRewards(normalized_by_member, candidate_of), options_.hedge_eta0,
                  round);
    }

    // Broadcast the winner; its drafter already holds it in its cache.
    const TraceCandidate& win = trace.candidates[trace.winner];
    std::vector<size_t> receivers;
    for (size_t i : participants) {
      if (active[i]) receivers.push_back(i);
    }
    std::vector<Status> accepted(n);
    t0 = Clock::now();
    ForEachParallel(receivers, [&](size_t i) { accepted[i] = state_->sequences[i]->Accept(win.text); });
    trace.accept_ms = MsSince(t0);
    bool overflow = false;
    for (size_t i : receivers) {
      if (accepted[i].ok()) continue;
      if (accepted[i].code() == ErrorCode::kContextOverflow) {
        overflow = true;
      } else {
        trace.failed.push_back(members_[i].model->name() + ": " + accepted[i].message());
        active[i] = false;
      }
    }

    std::string segment = win.text;
    size_t before = answer.text.size();
    answer.text += segment;
    sum.output_tokens += win.tokens;
    for (const auto& name : win.models) sum.rounds_won[name] += 1;
    if (max_stop > 0) {
      size_t from = before >= max_stop ? before - max_stop + 1 : 0;
      size_t hit = std::string::npos;
      for (const auto& s : options_.stop) hit = std::min(hit, answer.text.find(s, from));
      if (hit != std::string::npos) {
        answer.text.resize(hit);
        segment = hit > before ? answer.text.substr(before) : std::string();
        sum.finish_reason = "stop";
      }
    }
    if (sum.finish_reason.empty()) {
      if (win.end_of_generation) sum.finish_reason = "stop";
      else if (overflow || sum.output_tokens >= options_.max_tokens) sum.finish_reason = "length";
    }

    // Model exit: drafters whose share of the quality has become clearly small leave.
    if (!trace.solo && sum.finish_reason.empty()) {
      std::vector<size_t> ranked;
      std::vector<double> q;
      for (size_t i = 0; i < n; ++i) {
        if (active[i] && Drafts(members_[i].role)) {
          ranked.push_back(i);
          q.push_back(quality[i]);
        }
      }
      ExitDecision d = DecideExits(q, round, options_.exit);
      if (d.tested) trace.exit_entropy = d.entropy;
      for (int k : d.exits) {
        if (static_cast<int>(ranked[k]) == anchor) continue;  // the anchor never exits
        active[ranked[k]] = false;
        exited[ranked[k]] = true;
        trace.exited.push_back(members_[ranked[k]].model->name());
      }
    }

    sum.rounds = round;
    if (round == 1) sum.first_segment_ms = MsSince(t_start);
    answer.rounds.push_back(trace);
    if (on_segment && !on_segment(segment, answer.rounds.back()) && sum.finish_reason.empty()) {
      sum.finish_reason = "cancelled";
    }
  }
  sum.wall_ms = MsSince(t_start);
  return answer;
}

}  // namespace specfuse
