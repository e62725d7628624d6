// Google Benchmark micro-benchmarks of the per-round hot paths on a real model:
// scoring K candidates in one batched decode vs one decode each, and appending a
// segment incrementally vs re-prefilling the whole context.
//
//   build/bin/specfuse_micro_bench [--benchmark_filter=...]
// Env SPECFUSE_BENCH_MODEL: a GGUF path (default: the cached SmolLM2-135M).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "specfuse/llama_backend.h"

namespace specfuse {
namespace {

std::shared_ptr<Model> SharedModel() {
  static std::shared_ptr<Model> model = [] {
    LlamaModelOptions o;
    const char* env = std::getenv("SPECFUSE_BENCH_MODEL");
    if (env && *env) {
      o.path = env;
    } else {
      const char* cache = std::getenv("SPECFUSE_CACHE");
      std::string dir = cache && *cache ? cache : std::string(std::getenv("HOME")) + "/.cache/specfuse";
      o.path = dir + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    }
    o.context_size = 2048;
    o.max_candidates = 16;
    auto m = LoadLlamaModel(o);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      std::exit(1);
    }
    return *m;
  }();
  return model;
}

std::vector<std::string> Candidates(int k) {
  const char* words[] = {" The capital of France is Paris", " Paris is the capital",
                         " It is Paris, of course", " France's capital: Paris",
                         " The answer is Paris", " Paris, a city on the Seine",
                         " Most people know it is Paris", " Paris has been the capital"};
  std::vector<std::string> out;
  for (int i = 0; i < k; ++i) out.push_back(words[i % 8] + std::string(i >= 8 ? "!" : ""));
  return out;
}

std::unique_ptr<Sequence> StartQuery() {
  SamplingOptions s;
  s.temperature = 0;
  auto seq = SharedModel()->Start({{"user", "What is the capital of France? Answer in one sentence."}}, s);
  return std::move(seq).value();
}

// One batched decode for all K candidates (what the engine does each round).
void BM_ScoreBatched(benchmark::State& state) {
  auto seq = StartQuery();
  auto cands = Candidates(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(seq->Score(cands));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreBatched)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond);

// One decode per candidate: the naive alternative.
void BM_ScoreOneByOne(benchmark::State& state) {
  auto seq = StartQuery();
  auto cands = Candidates(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (const auto& c : cands) benchmark::DoNotOptimize(seq->Score({c}));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreOneByOne)->Arg(2)->Arg(4)->Arg(8)->Unit(benchmark::kMillisecond);

// The long answer so far, accepted before timing starts.
std::string History(int segments) {
  std::string h;
  for (int i = 0; i < segments; ++i) h += " Paris is the capital and largest city of France.";
  return h;
}

// Appending a 10-word segment to a context that already holds the answer so far.
void BM_AcceptIncremental(benchmark::State& state) {
  std::string history = History(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    auto seq = StartQuery();
    (void)seq->Accept(history);
    state.ResumeTiming();
    benchmark::DoNotOptimize(seq->Accept(" It lies on the Seine river in the north."));
    state.PauseTiming();
    seq.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_AcceptIncremental)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

// The naive alternative: rebuild the whole context (prompt + answer + segment).
void BM_AcceptReprefill(benchmark::State& state) {
  std::string history = History(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto seq = StartQuery();
    benchmark::DoNotOptimize(seq->Accept(history + " It lies on the Seine river in the north."));
    state.PauseTiming();
    seq.reset();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_AcceptReprefill)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specfuse

BENCHMARK_MAIN();
