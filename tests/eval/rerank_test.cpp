// Best-of-n reranking on the real default models: every verifier scores every whole
// response in its own context, and the combined scores pick the answer.
#include <gtest/gtest.h>

#include <numeric>

#include "specfuse/llama_backend.h"
#include "specfuse/rerank.h"
#include "test_models.h"

namespace specfuse {
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

TEST(RerankResponses, PicksTheAnswerBothVerifiersPreferAndScoresDuplicatesOnce) {
  auto smol = Load(testing::kSmol, "smol");
  auto qwen = Load(testing::kQwen, "qwen");
  ASSERT_TRUE(smol && qwen);
  const std::vector<std::string> responses = {"Banana banana banana.", "The capital of France is Paris.",
                                              "", "The capital of France is Paris."};
  auto r = RerankResponses({smol, qwen}, {{"user", "What is the capital of France?"}}, responses,
                           ScoreVariant::kProb);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->best, 1);  // the first of two identical best responses
  EXPECT_EQ(r->model_calls, 2);
  ASSERT_EQ(r->normalized.size(), 2u);
  for (const auto& row : r->normalized) {
    EXPECT_NEAR(std::accumulate(row.begin(), row.end(), 0.0), 1.0, 1e-9);
    EXPECT_EQ(row[2], 0.0);     // the empty response
    EXPECT_EQ(row[1], row[3]);  // scored once
  }
  EXPECT_NEAR(r->combined[1], 0.5 * (r->normalized[0][1] + r->normalized[1][1]), 1e-12);

  auto none = RerankResponses({}, {{"user", "q"}}, responses, ScoreVariant::kProb);
  EXPECT_FALSE(none.ok());
}

}  // namespace
}  // namespace specfuse
