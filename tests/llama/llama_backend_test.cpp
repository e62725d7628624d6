// The in-process llama.cpp backend on real small GGUF models.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse {
namespace {

using testing::ModelPath;

std::shared_ptr<Model> Load(const std::string& file, int context_size = 2048,
                            const std::string& tmpl = "") {
  LlamaModelOptions o;
  o.path = ModelPath(file);
  o.context_size = context_size;
  o.threads = 2;
  o.chat_template = tmpl;
  auto m = LoadLlamaModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

SamplingOptions Greedy() {
  SamplingOptions s;
  s.temperature = 0.0f;
  return s;
}

std::vector<ChatMessage> Ask(const std::string& q) { return {{"user", q}}; }

std::vector<int32_t> Ids(const Draft& d) {
  std::vector<int32_t> ids;
  for (const auto& t : d.tokens) ids.push_back(t.id);
  return ids;
}

class LlamaBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { smol_ = Load(testing::kSmol); }
  static void TearDownTestSuite() { smol_.reset(); }
  static std::shared_ptr<Model> smol_;
};
std::shared_ptr<Model> LlamaBackendTest::smol_;

TEST_F(LlamaBackendTest, ScoringCandidatesInOneBatchEqualsScoringEachAlone) {
  ASSERT_TRUE(smol_);
  auto seq = smol_->Start(Ask("What is the capital of France?"), Greedy());
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  std::vector<std::string> cands = {"The capital of France is Paris.", "Paris", "I think it is Lyon",
                                    " Berlin, of course"};
  auto batched = (*seq)->Score(cands);
  ASSERT_TRUE(batched.ok()) << batched.status().ToString();
  ASSERT_EQ(batched->size(), cands.size());
  for (size_t k = 0; k < cands.size(); ++k) {
    auto alone = (*seq)->Score({cands[k]});
    ASSERT_TRUE(alone.ok());
    const auto& a = (*alone)[0];
    const auto& b = (*batched)[k];
    ASSERT_EQ(a.logprobs.size(), b.logprobs.size()) << cands[k];
    ASSERT_GT(a.logprobs.size(), 0u);
    for (size_t j = 0; j < a.logprobs.size(); ++j) {
      EXPECT_NEAR(a.logprobs[j], b.logprobs[j], 1e-3) << cands[k] << " token " << j;
      EXPECT_LE(b.logprobs[j], 0.0f);
    }
    EXPECT_NEAR(a.eog_logprob, b.eog_logprob, 1e-3);
  }
  // The right answer is more likely than the wrong one.
  auto mean = [](const CandidateScore& s) {
    double t = 0;
    for (float x : s.logprobs) t += x;
    return t / s.logprobs.size();
  };
  EXPECT_GT(mean((*batched)[1]), mean((*batched)[2]));
}

TEST_F(LlamaBackendTest, ScoringLeavesTheContextUnchanged) {
  auto seq = smol_->Start(Ask("Say hello."), Greedy());
  ASSERT_TRUE(seq.ok());
  auto before = (*seq)->DraftTokens(8);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE((*seq)->Score({"Hello there", "Goodbye", "Hi!"}).ok());
  auto after = (*seq)->DraftTokens(8);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Ids(*before), Ids(*after));
  for (size_t i = 0; i < before->tokens.size(); ++i) {
    EXPECT_NEAR(before->tokens[i].logprob, after->tokens[i].logprob, 1e-3);
  }
}

TEST_F(LlamaBackendTest, IncrementalAcceptThenGreedyDraftEqualsAFreshContext) {
  auto msgs = Ask("Describe the sea in one sentence.");
  // Incremental: a foreign segment, then the model's own draft (reused from its cache),
  // then another foreign segment.
  auto inc = smol_->Start(msgs, Greedy());
  ASSERT_TRUE(inc.ok());
  ASSERT_TRUE((*inc)->Accept("The sea is").ok());
  auto own = (*inc)->DraftTokens(4);
  ASSERT_TRUE(own.ok());
  ASSERT_FALSE(own->tokens.empty());
  std::string own_text = own->Text();
  ASSERT_TRUE((*inc)->Accept(own_text).ok());
  ASSERT_TRUE((*inc)->Accept(" and").ok());
  auto next_inc = (*inc)->DraftTokens(10);
  ASSERT_TRUE(next_inc.ok());

  // Fresh: the same text accepted at once.
  auto fresh = smol_->Start(msgs, Greedy());
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Accept("The sea is" + own_text + " and").ok());
  auto next_fresh = (*fresh)->DraftTokens(10);
  ASSERT_TRUE(next_fresh.ok());
  EXPECT_EQ((*inc)->ContextTokens(), (*fresh)->ContextTokens());
  EXPECT_EQ(Ids(*next_inc), Ids(*next_fresh));
  EXPECT_EQ(next_inc->Text(), next_fresh->Text());
}

TEST_F(LlamaBackendTest, AcceptingACutOwnDraftKeepsTheContextExact) {
  auto msgs = Ask("Count from one to ten in words.");
  auto a = smol_->Start(msgs, Greedy());
  ASSERT_TRUE(a.ok());
  auto d = (*a)->DraftTokens(6);
  ASSERT_TRUE(d.ok());
  ASSERT_GE(d->tokens.size(), 3u);
  // Accept only the first two tokens of the draft: the rest must leave the cache.
  std::string head = d->tokens[0].piece + d->tokens[1].piece;
  ASSERT_TRUE((*a)->Accept(head).ok());
  auto next_a = (*a)->DraftTokens(6);
  ASSERT_TRUE(next_a.ok());
  // The continuation of the first two tokens is the rest of the first draft.
  std::vector<int32_t> first = Ids(*d);
  std::vector<int32_t> second = Ids(*next_a);
  std::vector<int32_t> rest(first.begin() + 2, first.end());
  ASSERT_GE(second.size(), rest.size());
  std::vector<int32_t> got(second.begin(), second.begin() + rest.size());
  EXPECT_EQ(got, rest);
}

TEST_F(LlamaBackendTest, TheSameSeedSamplesTheSameTokensAndDifferentSeedsDiffer) {
  auto msgs = Ask("Write a short poem about the moon.");
  auto draft_with = [&](uint64_t seed) {
    SamplingOptions s;
    s.temperature = 1.0f;
    s.top_p = 1.0f;
    s.seed = seed;
    auto seq = smol_->Start(msgs, s);
    EXPECT_TRUE(seq.ok());
    auto d = (*seq)->DraftTokens(24);
    EXPECT_TRUE(d.ok());
    return Ids(*d);
  };
  auto a = draft_with(7);
  auto b = draft_with(7);
  auto c = draft_with(8);
  auto e = draft_with(9);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c && a == e) << "three seeds gave the same 24 tokens";
}

TEST_F(LlamaBackendTest, SeveralQueriesShareOneModelIndependently) {
  auto q1 = Ask("What is 2 plus 2?");
  auto q2 = Ask("Name a fruit.");
  auto alone1 = smol_->Start(q1, Greedy());
  auto d1 = (*alone1)->DraftTokens(8);
  alone1->reset();
  auto alone2 = smol_->Start(q2, Greedy());
  auto d2 = (*alone2)->DraftTokens(8);
  alone2->reset();
  // Interleaved on the same model.
  auto s1 = smol_->Start(q1, Greedy());
  auto s2 = smol_->Start(q2, Greedy());
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto i2 = (*s2)->DraftTokens(8);
  auto i1 = (*s1)->DraftTokens(8);
  EXPECT_EQ(Ids(*i1), Ids(*d1));
  EXPECT_EQ(Ids(*i2), Ids(*d2));
}

TEST_F(LlamaBackendTest, DraftsCarryRawLogprobsThatMatchScoring) {
  auto seq = smol_->Start(Ask("What color is the sky?"), Greedy());
  auto d = (*seq)->DraftTokens(6);
  ASSERT_TRUE(d.ok());
  auto s = (*seq)->Score({d->Text()});
  ASSERT_TRUE(s.ok());
  ASSERT_EQ((*s)[0].logprobs.size(), d->tokens.size());
  for (size_t i = 0; i < d->tokens.size(); ++i) {
    EXPECT_NEAR((*s)[0].logprobs[i], d->tokens[i].logprob, 1e-3);
    EXPECT_NEAR((*s)[0].logits[i], d->tokens[i].logit, 1e-2);
  }
}

TEST(LlamaBackendErrors, AMissingFileIsNotFoundAndNamesThePath) {
  LlamaModelOptions o;
  o.path = "/nonexistent/dir/model.gguf";
  auto m = LoadLlamaModel(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(m.status().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
}

TEST(LlamaBackendErrors, AFileThatIsNotGgufIsRejectedWithAClearMessage) {
  std::string path = std::filesystem::temp_directory_path() / "specfuse_not_gguf.gguf";
  std::ofstream(path) << "this is a text file, not a model\n";
  LlamaModelOptions o;
  o.path = path;
  auto m = LoadLlamaModel(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(m.status().message().find("not a GGUF"), std::string::npos) << m.status().message();
}

TEST(LlamaBackendErrors, ATruncatedGgufIsRejectedWithoutCrashing) {
  std::string path = std::filesystem::temp_directory_path() / "specfuse_truncated.gguf";
  {
    std::ifstream in(ModelPath(testing::kSmol), std::ios::binary);
    ASSERT_TRUE(in) << "run scripts/setup.sh to fetch the default models";
    std::vector<char> head(4 << 20);
    in.read(head.data(), head.size());
    std::ofstream(path, std::ios::binary).write(head.data(), in.gcount());
  }
  LlamaModelOptions o;
  o.path = path;
  auto m = LoadLlamaModel(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), ErrorCode::kInvalidModel);
  EXPECT_NE(m.status().message().find("truncated"), std::string::npos) << m.status().message();
}

TEST(LlamaBackendErrors, APromptLongerThanTheContextIsAContextOverflow) {
  auto model = Load(testing::kSmol, 64);
  ASSERT_TRUE(model);
  std::string longp;
  for (int i = 0; i < 100; ++i) longp += "word ";
  auto seq = model->Start(Ask(longp), Greedy());
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.status().code(), ErrorCode::kContextOverflow);
  EXPECT_NE(seq.status().message().find("64"), std::string::npos) << seq.status().message();
}

TEST(LlamaBackendTemplates, EachDefaultModelRendersItsChatAndAnswers) {
  struct Case { const char* file; const char* tmpl; };
  for (Case c : {Case{testing::kQwen, ""}, Case{testing::kGemma, "gemma"}}) {
    auto model = Load(c.file, 1024, c.tmpl);
    ASSERT_TRUE(model) << c.file;
    auto seq = model->Start(Ask("What is the capital of France?"), Greedy());
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    auto d = (*seq)->DraftTokens(12);
    ASSERT_TRUE(d.ok());
    EXPECT_FALSE(d->tokens.empty()) << c.file;
  }
}

}  // namespace
}  // namespace specfuse
