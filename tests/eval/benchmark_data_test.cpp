// The converted standard benchmarks (scripts/fetch_benchmarks.sh) read back as the
// evaluator reads them: item counts per split, every GSM8K reference solution's final
// number found by the math extraction, every multiple-choice answer a valid letter, and
// every HumanEval and MBPP reference solution passing its tests in the sandbox. The
// directory is SPECFUSE_BENCHMARKS, else the fetch script's default (scripts/test.sh
// fetches the data first).
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "eval/code_answer.h"
#include "eval/dataset.h"
#include "eval/math_answer.h"

namespace specfuse::eval {
namespace {

// SPECFUSE_BENCHMARKS, else the fetch script's default directory.
std::string Dir() {
  if (const char* d = std::getenv("SPECFUSE_BENCHMARKS"); d && *d) return d;
  const char* cache = std::getenv("SPECFUSE_CACHE");
  const char* home = std::getenv("HOME");
  return (cache && *cache ? std::string(cache) : std::string(home ? home : "") + "/.cache/specfuse") +
         "/benchmarks/v1";
}

std::vector<Item> Load(const std::string& file) {
  auto items = LoadDataset(Dir() + "/" + file);
  EXPECT_TRUE(items.ok()) << items.status().message();
  return items.ok() ? *items : std::vector<Item>{};
}

TEST(BenchmarkData, HasEverySplitWithItsItemCount) {
  const std::map<std::string, size_t> expected = {
      {"gsm8k.dev.jsonl", 200},          {"gsm8k.test.jsonl", 1119},  {"arc-challenge.dev.jsonl", 299},
      {"arc-challenge.test.jsonl", 1172}, {"mmlu.dev.jsonl", 1816},    {"mmlu.test.jsonl", 14042},
      {"commonsenseqa.test.jsonl", 1221}, {"triviaqa.test.jsonl", 7993}, {"humaneval.test.jsonl", 164},
      {"mbpp.test.jsonl", 500}};
  std::ifstream in(Dir() + "/manifest.json");
  auto manifest = nlohmann::json::parse(in);
  ASSERT_EQ(manifest["files"].size(), expected.size());
  for (const auto& f : manifest["files"]) {
    const std::string file = f["file"];
    ASSERT_TRUE(expected.count(file)) << file;
    EXPECT_EQ(f["items"].get<size_t>(), expected.at(file)) << file;
    EXPECT_EQ(Load(file).size(), expected.at(file)) << file;
  }
}

TEST(BenchmarkData, Gsm8kReferenceSolutionsYieldTheirAnswers) {
  // The converter keeps only the final number; the reference's own wording is "#### N",
  // which the extraction's last-number rule reads.
  for (const char* file : {"gsm8k.dev.jsonl", "gsm8k.test.jsonl"}) {
    for (const auto& item : Load(file)) {
      auto got = ExtractFinalNumber("So she has #### " + item.answer);
      ASSERT_TRUE(got.has_value()) << item.id;
      EXPECT_TRUE(NumbersEqual(*got, item.answer)) << item.id << ": " << *got << " vs " << item.answer;
      EXPECT_EQ(item.max_tokens, 400) << item.id;
    }
  }
}

TEST(BenchmarkData, CodeReferenceSolutionsPassTheirTests) {
  // This checks the data and the sandbox, not speed: the slowest reference (mbpp-123, sums
  // of amicable numbers) needs a few seconds alone and more than the evaluation's 10 s
  // limit on a loaded two-core machine, so the references get a minute each.
  SandboxLimits limits;
  limits.wall_seconds = 60;
  limits.cpu_seconds = 60;
  for (const char* file : {"humaneval.test.jsonl", "mbpp.test.jsonl"}) {
    const auto items = Load(file);
    std::mutex mu;
    std::vector<std::string> failed;
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next++) < items.size();) {
        const Item& item = items[k];
        auto run = RunCodeTests(item, "```python\n" + item.solution + "\n```", limits);
        std::lock_guard<std::mutex> lock(mu);
        if (!run.ok()) failed.push_back(item.id + ": " + run.status().message());
        else if (!run->passed) {
          failed.push_back(item.id + ": exit " + std::to_string(run->exit_code) + ", signal " +
                           std::to_string(run->signal) + (run->timed_out ? ", timed out" : "") + ": " +
                           run->output);
        }
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    EXPECT_TRUE(failed.empty()) << file << ": " << failed.size() << " failed, first: " << failed.front();
  }
}

}  // namespace
}  // namespace specfuse::eval
