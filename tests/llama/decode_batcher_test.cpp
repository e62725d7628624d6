// Concurrent queries on one model: their decodes merge into one llama_decode, and each
// query gets the same logits and scores as when it runs alone. Real SmolLM2 model.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "backends/llama/llama_model.h"
#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse::llama {
namespace {

std::shared_ptr<LlamaModel> LoadSmol(int max_candidates, int batch_wait_us = 0) {
  LlamaModelOptions o;
  o.batch_wait_us = batch_wait_us;
  o.path = specfuse::testing::ModelPath(specfuse::testing::kSmol);
  o.context_size = 1024;
  o.threads = 2;
  o.max_candidates = max_candidates;
  auto m = LoadLlamaModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::dynamic_pointer_cast<LlamaModel>(*m) : nullptr;
}

void WaitFor(const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "timed out";
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// One query's pending last token, decoded for its logits row.
struct Query {
  int seq = -1;
  std::vector<llama_token> ids;
  std::vector<float> row;
  DecodeJob job;
};

TEST(DecodeBatcherTest, QueuedJobsOfSeveralQueriesShareOneDecodeAndGetTheirOwnLogits) {
  auto model = LoadSmol(8);
  ASSERT_TRUE(model);
  const char* prompts[] = {"The capital of France is", "Two plus two equals", "Roses are red, violets"};
  std::vector<Query> qs(3);
  for (int i = 0; i < 3; ++i) {
    Query& q = qs[i];
    {
      std::lock_guard<std::mutex> lock(model->mutex());
      q.seq = model->AcquireSeq();
    }
    ASSERT_GE(q.seq, 0);
    q.ids = model->Tokenize(prompts[i], true);
    ASSERT_TRUE(model->Prefill(q.seq, q.ids, 0, q.ids.size() - 1, 0).ok());
    q.job.Add(q.ids.back(), static_cast<int>(q.ids.size()) - 1, q.seq, true);
    q.job.read = [&q, n = model->n_vocab()](const float* rows) { q.row.assign(rows, rows + n); };
  }
  // Each alone, then the last position dropped again.
  std::vector<std::vector<float>> alone;
  for (Query& q : qs) {
    ASSERT_EQ(model->Decode(q.job), 0);
    alone.push_back(q.row);
    std::lock_guard<std::mutex> lock(model->mutex());
    llama_memory_seq_rm(llama_get_memory(model->ctx()), q.seq, static_cast<int>(q.ids.size()) - 1, -1);
  }
  DecodeCounters before = model->decode_counters();

  // Hold the context so the first query's runner blocks, and queue the other two behind it.
  std::vector<std::thread> threads;
  int rc[3] = {-1, -1, -1};
  {
    std::unique_lock<std::mutex> hold(model->mutex());
    threads.emplace_back([&] { rc[0] = model->Decode(qs[0].job); });
    WaitFor([&] { return model->batcher().running(); });
    threads.emplace_back([&] { rc[1] = model->Decode(qs[1].job); });
    threads.emplace_back([&] { rc[2] = model->Decode(qs[2].job); });
    WaitFor([&] { return model->batcher().queued() == 2; });
  }
  for (auto& t : threads) t.join();

  DecodeCounters after = model->decode_counters();
  EXPECT_EQ(after.decodes - before.decodes, 2u);  // the first alone, then the queued two together
  EXPECT_EQ(after.jobs - before.jobs, 3u);
  EXPECT_EQ(after.merged - before.merged, 1u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(rc[i], 0);
    ASSERT_EQ(qs[i].row.size(), alone[i].size());
    const auto& a = alone[i];
    const auto& b = qs[i].row;
    EXPECT_EQ(std::max_element(a.begin(), a.end()) - a.begin(),
              std::max_element(b.begin(), b.end()) - b.begin())
        << "query " << i;
    float la = LogSumExp(a.data(), static_cast<int>(a.size()));
    float lb = LogSumExp(b.data(), static_cast<int>(b.size()));
    float worst = 0;
    for (size_t v = 0; v < a.size(); ++v) {
      if (a[v] - la > -10) worst = std::max(worst, std::fabs((a[v] - la) - (b[v] - lb)));
    }
    EXPECT_LT(worst, 1e-3) << "query " << i;
  }
  std::lock_guard<std::mutex> lock(model->mutex());
  for (Query& q : qs) model->ReleaseSeq(q.seq);
}

TEST(DecodeBatcherTest, ConcurrentScorersShareTooFewScratchSequencesAndGetTheirOwnScores) {
  // Two scratch sequences for two queries scoring four candidates each: scorers wait for
  // each other's scratch ids and take several passes.
  auto model = LoadSmol(2);
  ASSERT_TRUE(model);
  SamplingOptions greedy;
  greedy.temperature = 0.0f;
  std::vector<std::string> cands = {" Paris", " Lyon, of course", " a city", " Berlin"};
  auto s1 = model->Start({{"user", "What is the capital of France?"}}, greedy);
  auto s2 = model->Start({{"user", "Name a large city in Europe."}}, greedy);
  ASSERT_TRUE(s1.ok() && s2.ok());
  auto alone1 = (*s1)->Score(cands);
  auto alone2 = (*s2)->Score(cands);
  ASSERT_TRUE(alone1.ok() && alone2.ok());

  Result<std::vector<CandidateScore>> r1 = std::vector<CandidateScore>{};
  Result<std::vector<CandidateScore>> r2 = std::vector<CandidateScore>{};
  for (int round = 0; round < 3; ++round) {
    std::thread t1([&] { r1 = (*s1)->Score(cands); });
    std::thread t2([&] { r2 = (*s2)->Score(cands); });
    t1.join();
    t2.join();
    ASSERT_TRUE(r1.ok()) << r1.status().ToString();
    ASSERT_TRUE(r2.ok()) << r2.status().ToString();
    for (size_t k = 0; k < cands.size(); ++k) {
      ASSERT_EQ((*r1)[k].logprobs.size(), (*alone1)[k].logprobs.size());
      for (size_t j = 0; j < (*r1)[k].logprobs.size(); ++j) {
        EXPECT_NEAR((*r1)[k].logprobs[j], (*alone1)[k].logprobs[j], 1e-3);
        EXPECT_NEAR((*r2)[k].logprobs[j], (*alone2)[k].logprobs[j], 1e-3);
      }
      EXPECT_NEAR((*r1)[k].eog_logprob, (*alone1)[k].eog_logprob, 1e-3);
      EXPECT_NEAR((*r2)[k].eog_logprob, (*alone2)[k].eog_logprob, 1e-3);
    }
  }
}

TEST(DecodeBatcherTest, WhileTwoQueriesDraftARunnerWaitsForTheOthersNextToken) {
  // A long wait, so that the second query's token surely arrives within it.
  auto model = LoadSmol(8, 5000000);
  ASSERT_TRUE(model);
  std::vector<Query> qs(2);
  const char* prompts[] = {"The sky is", "Water is"};
  for (int i = 0; i < 2; ++i) {
    Query& q = qs[i];
    {
      std::lock_guard<std::mutex> lock(model->mutex());
      q.seq = model->AcquireSeq();
    }
    q.ids = model->Tokenize(prompts[i], true);
    ASSERT_TRUE(model->Prefill(q.seq, q.ids, 0, q.ids.size() - 1, 0).ok());
    q.job.Add(q.ids.back(), static_cast<int>(q.ids.size()) - 1, q.seq, true);
    q.job.read = [&q, n = model->n_vocab()](const float* rows) { q.row.assign(rows, rows + n); };
  }
  // One query alone never waits, even with a wait of seconds configured.
  DecodeCounters s0 = model->decode_counters();
  auto t0 = std::chrono::steady_clock::now();
  model->batcher().BeginDrafting();
  ASSERT_EQ(model->Decode(qs[0].job), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  {
    std::lock_guard<std::mutex> lock(model->mutex());
    llama_memory_seq_rm(llama_get_memory(model->ctx()), qs[0].seq, static_cast<int>(qs[0].ids.size()) - 1, -1);
  }
  // Two drafting: the first token waits for the second, and one pass serves both.
  model->batcher().BeginDrafting();
  DecodeCounters s1 = model->decode_counters();
  int rc0 = -1;
  std::thread first([&] { rc0 = model->Decode(qs[0].job); });
  WaitFor([&] { return model->batcher().running(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(model->Decode(qs[1].job), 0);
  first.join();
  model->batcher().EndDrafting();
  model->batcher().EndDrafting();
  DecodeCounters s2 = model->decode_counters();
  EXPECT_EQ(rc0, 0);
  EXPECT_EQ(s1.decodes - s0.decodes, 1u);
  EXPECT_EQ(s2.decodes - s1.decodes, 1u);
  EXPECT_EQ(s2.merged - s1.merged, 1u);
  EXPECT_EQ(qs[0].row.size(), static_cast<size_t>(model->n_vocab()));
  EXPECT_EQ(qs[1].row.size(), static_cast<size_t>(model->n_vocab()));
  std::lock_guard<std::mutex> lock(model->mutex());
  for (Query& q : qs) model->ReleaseSeq(q.seq);
}

}  // namespace
}  // namespace specfuse::llama
