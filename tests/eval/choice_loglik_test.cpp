// The log-likelihood protocol of multiple-choice items on the real default models: each
// member alone picks the option it scores highest, the vote picks the argmax of the
// combined normalized scores, both from one scoring of every option per item, and an item
// without options is refused by name.
#include <gtest/gtest.h>

#include "eval/methods.h"
#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse::eval {
namespace {

std::shared_ptr<Model> Load(const std::string& file, const std::string& name) {
  LlamaModelOptions o;
  o.path = testing::ModelPath(file);
  o.name = name;
  o.context_size = 512;
  o.threads = 1;
  auto m = LoadLlamaModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

int Max(const std::vector<double>& v) { return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin()); }

TEST(ChoiceLoglik, MembersAndTheVotePickTheArgmaxOfOneScoringOfTheOptions) {
  auto smol = Load(testing::kSmol, "smol");
  auto qwen = Load(testing::kQwen, "qwen");
  ASSERT_TRUE(smol && qwen);
  std::vector<Member> members = {{smol}, {qwen}};
  Item item;
  item.id = "capital";
  item.task = Task::kChoice;
  item.prompt = "What is the capital of France?";
  item.choices = {"Berlin", "Paris", "a large green vegetable that grows underground", "Madrid"};
  item.answer = "B";

  // The scores the protocol must use: the question alone, each option's mean log-probability.
  auto expected = RerankResponses({smol, qwen}, ClozeMessages(item, ""), item.choices, ScoreVariant::kLogprob);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  ASSERT_EQ(ClozeMessages(item, "").back().content,
            "Question: What is the capital of France?\nAnswer with the answer alone.");

  auto methods = SelectMethods(members, "smol-loglik,qwen-loglik,loglik-vote");
  ASSERT_TRUE(methods.ok()) << methods.status().ToString();
  ASSERT_EQ(methods->size(), 3u);
  MethodRunner runner(members, EnsembleOptions{});
  const int picks[] = {Max(expected->raw[0]), Max(expected->raw[1]), expected->best};
  const int calls[] = {1, 1, 2};
  for (size_t k = 0; k < 3; ++k) {
    auto r = runner.Run((*methods)[k], item);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::string letter(1, static_cast<char>('A' + picks[k]));
    EXPECT_EQ(r->chosen, letter) << (*methods)[k].name;
    EXPECT_EQ(r->answer, "The answer is (" + letter + ").");
    EXPECT_EQ(r->model_calls, calls[k]);
    EXPECT_EQ(r->tokens, 0);
    EXPECT_EQ(r->finish_reason, "scored");
  }
  // Both members know this one.
  EXPECT_EQ(picks[0], 1);
  EXPECT_EQ(picks[1], 1);
  EXPECT_EQ(picks[2], 1);

  Item open;
  open.id = "sum";
  open.task = Task::kMath;
  open.prompt = "What is 2 + 2?";
  auto refused = runner.Run((*methods)[2], open);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(),
            "method 'loglik-vote' scores the options of multiple-choice items; item 'sum' has none");
}

TEST(ChoiceLoglik, MethodsAreNamedOnlyOnRequest) {
  auto smol = Load(testing::kSmol, "smol");
  ASSERT_TRUE(smol);
  std::vector<Member> members = {{smol}};
  auto all = SelectMethods(members, "");
  ASSERT_TRUE(all.ok());
  for (const auto& m : *all) EXPECT_NE(m.kind, Method::Kind::kChoiceLoglik) << m.name;
  auto named = SelectMethods(members, "loglik-vote,smol-loglik");
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ((*named)[0].member, kAllMembers);
  EXPECT_EQ((*named)[1].member, 0u);
  auto unknown = SelectMethods(members, "qwen-loglik");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("smol-loglik, loglik-vote"), std::string::npos)
      << unknown.status().message();
}

}  // namespace
}  // namespace specfuse::eval
