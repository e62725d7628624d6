// The SpecFuse engine on the real default models, with fixed seeds.
#include <gtest/gtest.h>

#include <set>

#include "core/anchor.h"
#include "core/candidate_score.h"
#include "core/utf8.h"
#include "specfuse/engine.h"
#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse {
namespace {

std::shared_ptr<Model> Load(const std::string& file, const std::string& name,
                            const std::string& tmpl = "") {
  LlamaModelOptions o;
  o.path = testing::ModelPath(file);
  o.name = name;
  o.context_size = 1024;
  o.threads = 1;
  o.chat_template = tmpl;
  auto m = LoadLlamaModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    smol_ = Load(testing::kSmol, "smol");
    smol_b_ = Load(testing::kSmol, "smol-b");
    qwen_ = Load(testing::kQwen, "qwen");
    gemma_ = Load(testing::kGemma, "gemma", "gemma");
  }
  static void TearDownTestSuite() {
    smol_.reset();
    smol_b_.reset();
    qwen_.reset();
    gemma_.reset();
  }
  static EnsembleOptions Options() {
    EnsembleOptions o;
    o.max_tokens = 48;
    o.sampling.seed = 1234;
    return o;
  }
  static std::shared_ptr<Model> smol_, smol_b_, qwen_, gemma_;
};
std::shared_ptr<Model> EngineTest::smol_, EngineTest::smol_b_, EngineTest::qwen_,
    EngineTest::gemma_;

// The trace without its timings, to compare runs.
std::string Untimed(const Answer& a) {
  std::string out;
  for (RoundTrace r : a.rounds) {
    r.draft_ms = r.verify_ms = r.accept_ms = 0;
    out += RoundToJson(r) + "\n";
  }
  return out;
}

TEST_F(EngineTest, TheSameSeedGivesTheSameAnswerAndTrace) {
  auto run = [&] {
    Conversation c({{smol_}, {qwen_}}, Options());
    auto a = c.Ask("Name three colors.");
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return *a;
  };
  Answer a = run();
  Answer b = run();
  EXPECT_FALSE(a.text.empty());
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(Untimed(a), Untimed(b));
  EXPECT_EQ(a.summary.model_calls, b.summary.model_calls);
}

TEST_F(EngineTest, EveryRoundsWinnerIsTheArgmaxOfItsRecomputedCombinedScores) {
  EnsembleOptions o = Options();
  o.exit.enabled = false;
  // Ungated (margin -1), the winner is the plain argmax; gated (margin 0, the default), it is
  // the argmax among the candidates the anchor finds eligible.
  for (double margin : {-1.0, 0.0})
  for (WeightsMode mode : {WeightsMode::kUniform, WeightsMode::kHedge}) {
    o.weights = mode;
    o.anchor_margin = margin;
    Conversation c({{smol_}, {qwen_}, {gemma_}}, o);
    auto a = c.Ask("Why is the sky blue? Answer briefly.");
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    int voted = 0;
    for (const RoundTrace& r : a->rounds) {
      ASSERT_GE(r.winner, 0);
      if (r.candidates.size() < 2) continue;
      ++voted;
      std::vector<double> combined(r.candidates.size(), 0.0);
      double wsum = 0;
      for (const TraceScores& s : r.scores) {
        double w = r.weights.at(s.verifier);
        wsum += w;
        double nsum = 0;
        for (size_t k = 0; k < s.normalized.size(); ++k) {
          combined[k] += w * s.normalized[k];
          nsum += s.normalized[k];
        }
        EXPECT_NEAR(nsum, 1.0, 1e-9);
      }
      EXPECT_NEAR(wsum, 1.0, 1e-9);
      for (size_t k = 0; k < combined.size(); ++k) EXPECT_NEAR(combined[k], r.combined[k], 1e-9);
      if (margin < 0) {
        EXPECT_TRUE(r.anchor.empty());
        EXPECT_EQ(ArgMax(combined), r.winner) << "round " << r.round;
      } else {
        ASSERT_EQ(r.eligible.size(), combined.size());
        EXPECT_FALSE(r.anchor.empty());
        EXPECT_EQ(GatedArgMax(combined, r.eligible), r.winner) << "round " << r.round;
      }
      EXPECT_EQ(r.scores.size(), 3u) << "every verifier votes";
    }
    EXPECT_GT(voted, 0);
  }
}

TEST_F(EngineTest, TheTokenGateAdmitsOnlyCandidatesWithoutAFarTokenUnderTheAnchor) {
  EnsembleOptions o = Options();
  o.exit.enabled = false;
  o.sampling.temperature = 0.0f;  // the anchor's own greedy draft has no gap: always eligible
  o.anchor_margin = -1;
  o.anchor_token_margin = 0.5;
  Conversation c({{smol_}, {qwen_}}, o);
  auto a = c.Ask("Name three colors.");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  int voted = 0;
  for (const RoundTrace& r : a->rounds) {
    if (r.candidates.size() < 2) continue;
    ++voted;
    EXPECT_EQ(r.anchor, "qwen");  // the larger model
    const TraceScores* anchor = nullptr;
    for (const TraceScores& s : r.scores) {
      if (s.verifier == "qwen") anchor = &s;
    }
    ASSERT_NE(anchor, nullptr);
    ASSERT_EQ(anchor->worst_gap.size(), r.candidates.size());
    bool any = false;
    for (double g : anchor->worst_gap) any = any || g >= -0.5;
    for (size_t k = 0; k < r.candidates.size(); ++k) {
      EXPECT_LE(anchor->worst_gap[k], 0.0);
      EXPECT_EQ(r.eligible[k], !any || anchor->worst_gap[k] >= -0.5) << "round " << r.round;
      if (anchor->reused[k]) EXPECT_EQ(anchor->worst_gap[k], 0.0) << "its own greedy tokens";
    }
    EXPECT_TRUE(r.eligible[r.winner]);
  }
  EXPECT_GT(voted, 0);
}

TEST_F(EngineTest, OnASmallFixedPromptSetDifferentModelsWinRounds) {
  EnsembleOptions o = Options();
  o.max_tokens = 40;
  o.anchor_margin = -1;  // ungated: the vote, not the anchor alone, picks the winners
  std::set<std::string> winners;
  for (const char* prompt : {"Name three colors.", "Write a haiku about autumn.",
                             "What is the capital of France?"}) {
    Conversation c({{smol_}, {qwen_}}, o);
    auto a = c.Ask(prompt);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    for (const auto& r : a->rounds) {
      // Only rounds with a real contest count: one model's candidate beat another's.
      if (r.candidates.size() > 1) winners.insert(r.candidates[r.winner].models[0]);
    }
  }
  EXPECT_EQ(winners, (std::set<std::string>{"smol", "qwen"}));
}

TEST_F(EngineTest, IdenticalCandidatesAreScoredOnce) {
  // Two greedy instances of one model draft the same text: one candidate, no vote.
  EnsembleOptions o = Options();
  o.sampling.temperature = 0.0f;
  o.max_tokens = 20;
  Conversation c({{smol_}, {smol_b_}}, o);
  auto a = c.Ask("What is the capital of France?");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_FALSE(a->rounds.empty());
  for (const RoundTrace& r : a->rounds) {
    ASSERT_EQ(r.candidates.size(), 1u);
    EXPECT_EQ(r.candidates[0].models, (std::vector<std::string>{"smol", "smol-b"}));
    EXPECT_TRUE(r.scores.empty());
  }
  // Only draft calls were made: two per round.
  EXPECT_EQ(a->summary.model_calls, 2 * a->summary.rounds);
}

TEST_F(EngineTest, AVerifierOnlyMemberVotesButNeverDrafts) {
  EnsembleOptions o = Options();
  o.exit.enabled = false;
  Conversation c({{smol_}, {gemma_}, {qwen_, MemberRole::kVerifier}}, o);
  auto a = c.Ask("Give me a tip for learning to cook.");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  int voted = 0;
  for (const RoundTrace& r : a->rounds) {
    for (const auto& cand : r.candidates) {
      for (const auto& m : cand.models) EXPECT_NE(m, "qwen");
    }
    if (r.candidates.size() < 2) continue;
    ++voted;
    bool qwen_voted = false;
    for (const auto& s : r.scores) {
      if (s.verifier == "qwen") {
        qwen_voted = true;
        for (bool reused : s.reused) EXPECT_FALSE(reused);  // it drafted nothing to reuse
      } else {
        // A drafter reuses its own draft's probabilities for its own candidate.
        EXPECT_EQ(std::count(s.reused.begin(), s.reused.end(), true), 1);
      }
    }
    EXPECT_TRUE(qwen_voted);
  }
  EXPECT_GT(voted, 0);
}

TEST_F(EngineTest, AMuchWeakerMemberExitsAndModelCallsDrop) {
  // gemma at a very high temperature writes noise; the others outvote it.
  std::vector<Member> members = {{smol_}, {qwen_}, {gemma_, MemberRole::kBoth, 8.0f}};
  EnsembleOptions on = Options();
  on.max_tokens = 80;
  on.exit.warmup_rounds = 2;
  on.exit.entropy_threshold = 0.9;
  EnsembleOptions off = on;
  off.exit.enabled = false;
  Conversation with_exit(members, on);
  Conversation without_exit(members, off);
  const char* q = "Describe step by step how a computer runs a program.";
  auto a = with_exit.Ask(q);
  auto b = without_exit.Ask(q);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_GE(b->summary.rounds, 3) << "the answer must outlast the warm-up to test exit";
  std::set<std::string> exited;
  for (const auto& r : a->rounds) exited.insert(r.exited.begin(), r.exited.end());
  EXPECT_TRUE(exited.count("gemma")) << "the noisy member should exit";
  EXPECT_GT(a->summary.calls_saved_by_exit, 0);
  double calls_per_round_on = double(a->summary.model_calls) / a->summary.rounds;
  double calls_per_round_off = double(b->summary.model_calls) / b->summary.rounds;
  EXPECT_LT(calls_per_round_on, calls_per_round_off);
  for (const auto& r : b->rounds) EXPECT_TRUE(r.exited.empty());
}

TEST_F(EngineTest, TheLastRemainingMemberGeneratesAloneWithoutVotes) {
  EnsembleOptions o = Options();
  o.exit.warmup_rounds = 1;
  o.exit.entropy_threshold = 1.0;  // any ranking is clear enough
  o.exit.epsilon = 1.0;            // everyone below the mean leaves
  o.anchor_margin = -1;            // the gate's anchor, gemma (the larger model), never exits
  Conversation c({{smol_}, {gemma_, MemberRole::kBoth, 8.0f}}, o);
  auto a = c.Ask("List two animals.");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_GE(a->rounds.size(), 2u);
  EXPECT_EQ(a->rounds[0].exited, std::vector<std::string>{"gemma"});
  for (size_t i = 1; i < a->rounds.size(); ++i) {
    EXPECT_TRUE(a->rounds[i].solo);
    EXPECT_TRUE(a->rounds[i].scores.empty());
    EXPECT_EQ(a->rounds[i].active, std::vector<std::string>{"smol"});
  }
}

TEST_F(EngineTest, TheAnswerIsAlwaysValidUtf8) {
  EnsembleOptions o = Options();
  o.sampling.temperature = 1.0f;
  o.segment_tokens = 3;  // short drafts often split multi-byte characters
  Conversation c({{smol_}, {qwen_}}, o);
  auto a = c.Ask("Écris une phrase en français avec des accents, puis 你好世界 et un emoji.");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(IsValidUtf8(a->text)) << a->text;
  for (const auto& r : a->rounds) {
    for (const auto& cand : r.candidates) EXPECT_TRUE(IsValidUtf8(cand.text));
  }
}

TEST_F(EngineTest, StopStringsAndMaxTokensEndTheAnswer) {
  EnsembleOptions o = Options();
  o.sampling.temperature = 0.0f;
  o.max_tokens = 12;
  Conversation c({{smol_}, {qwen_}}, o);
  auto a = c.Ask("Count from one to twenty in words, separated by commas.");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->summary.finish_reason, "length");
  EXPECT_GE(a->summary.output_tokens, 12);
  EXPECT_LT(a->summary.output_tokens, 12 + o.segment_tokens);

  o.max_tokens = 64;
  o.stop = {","};
  Conversation s({{smol_}, {qwen_}}, o);
  auto b = s.Ask("Count from one to twenty in words, separated by commas.");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->summary.finish_reason, "stop");
  EXPECT_EQ(b->text.find(','), std::string::npos) << b->text;
}

TEST_F(EngineTest, AConversationKeepsItsContextAcrossTurns) {
  EnsembleOptions o = Options();
  o.sampling.temperature = 0.0f;
  o.max_tokens = 24;
  Conversation c({{smol_}, {qwen_}}, o);
  auto first = c.Ask("My name is Ada. Say hello to me.");
  ASSERT_TRUE(first.ok());
  auto second = c.Ask("What is my name?");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(c.history().size(), 4u);
  EXPECT_EQ(c.history()[1].content, first->text);
  EXPECT_EQ(c.history()[3].content, second->text);
  // The second turn starts from the whole conversation, so its prompt is longer.
  EXPECT_GT(second->summary.prompt_tokens, first->summary.prompt_tokens);
}

TEST_F(EngineTest, BadOptionsAreRejectedBeforeAnyWork) {
  EnsembleOptions o = Options();
  o.segment_tokens = 0;
  Conversation c({{smol_}}, o);
  auto a = c.Ask("Hi");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("segment_tokens"), std::string::npos);

  Conversation v({{smol_, MemberRole::kVerifier}}, Options());
  auto b = v.Ask("Hi");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("drafter"), std::string::npos);
}

}  // namespace
}  // namespace specfuse
