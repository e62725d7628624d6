// Reading evaluation items: the format eval/README.md describes, and errors that say
// where and what is wrong.
#include <gtest/gtest.h>

#include "eval/dataset.h"

namespace specfuse::eval {
namespace {

TEST(ParseDataset, ReadsEveryTaskType) {
  auto items = ParseDataset(
      R"({"id": "a1", "task": "arithmetic", "prompt": "2 + 3?", "answer": "5"}

{"id": "c1", "task": "choice", "prompt": "Capital of France?", "choices": ["Rome", "Paris"], "answer": "B"}
{"id": "i1", "task": "instruction", "prompt": "Name a color.", "reference": "Red."}
)",
      "t.jsonl");
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[1].task, Task::kChoice);
  EXPECT_EQ(RenderPrompt((*items)[1]),
            "Capital of France?\nA) Rome\nB) Paris\nAnswer with the letter of the correct choice.");
  EXPECT_EQ(RenderPrompt((*items)[0]), "2 + 3?");
}

TEST(ParseDataset, NamesTheLineAndTheProblem) {
  auto expect_error = [](const std::string& text, const std::string& part) {
    auto r = ParseDataset(text, "d.jsonl");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  expect_error("{\"id\": \"x\"", "d.jsonl:1: not a JSON object");
  expect_error(R"({"id": "x", "task": "factual", "prompt": "p"})", "missing \"answer\"");
  expect_error(R"({"id": "x", "task": "poetry", "prompt": "p", "answer": "a"})", "unknown task 'poetry'");
  expect_error(R"({"id": "x", "task": "choice", "prompt": "p", "choices": ["a", "b"], "answer": "C"})",
               "letter of a choice");
  expect_error(R"({"id": "x", "task": "factual", "prompt": "p", "answer": "a", "reference": "r"})",
               "unexpected field \"reference\"");
  expect_error("{\"id\": \"x\", \"task\": \"factual\", \"prompt\": \"p\", \"answer\": \"a\"}\n"
               "{\"id\": \"x\", \"task\": \"factual\", \"prompt\": \"q\", \"answer\": \"b\"}",
               "d.jsonl:2: duplicate id \"x\"");
  expect_error("", "no items");
}

TEST(Stratify, KeepsTheFirstItemsOfEachTaskInterleaved) {
  std::vector<Item> items = {{"a1", Task::kArithmetic}, {"a2", Task::kArithmetic}, {"a3", Task::kArithmetic},
                             {"f1", Task::kFactual},    {"f2", Task::kFactual}};
  std::vector<std::string> ids;
  for (const auto& item : Stratify(items, 2)) ids.push_back(item.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "f1", "a2", "f2"}));
  ids.clear();
  for (const auto& item : Stratify(items, 0)) ids.push_back(item.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a1", "f1", "a2", "f2", "a3"}));
}

TEST(ParseDataset, ReadsTheBenchmarkTasks) {
  auto items = ParseDataset(
      R"({"id": "g1", "task": "math", "prompt": "Tom has 2 apples and buys 3. How many?", "answer": "5", "max_tokens": 400}
{"id": "t1", "task": "short", "prompt": "Capital of France?", "answers": ["Paris", "Paris, France"]}
{"id": "h1", "task": "code", "prompt": "def f(x):\n    \"\"\"Double x.\"\"\"\n", "tests": "assert f(2) == 4\n", "solution": "def f(x):\n    return 2 * x\n"}
)",
      "b.jsonl");
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 3u);
  const Item& math = (*items)[0];
  EXPECT_EQ(math.task, Task::kMath);
  EXPECT_EQ(math.max_tokens, 400);
  EXPECT_EQ(RenderPrompt(math),
            "Tom has 2 apples and buys 3. How many?\nSolve the problem step by step. End with \"The answer "
            "is N.\", where N is the final number.");
  EXPECT_EQ(ResponsePrefix(math), "");
  const Item& trivia = (*items)[1];
  EXPECT_EQ(trivia.answers, (std::vector<std::string>{"Paris", "Paris, France"}));
  EXPECT_EQ(trivia.max_tokens, 0);
  EXPECT_EQ(RenderPrompt(trivia), "Answer the question with just the answer, in a few words.\nQuestion: Capital of France?");
  const Item& code = (*items)[2];
  EXPECT_EQ(code.tests, "assert f(2) == 4\n");
  EXPECT_EQ(code.solution, "def f(x):\n    return 2 * x\n");
  EXPECT_EQ(RenderPrompt(code),
            "Please provide a self-contained Python script that solves the following problem in a markdown "
            "code block:\n```\ndef f(x):\n    \"\"\"Double x.\"\"\"\n```\n");
  EXPECT_EQ(ResponsePrefix(code),
            "Below is a Python script with a self-contained function that solves the problem and passes "
            "corresponding tests:\n```python\n");
  EXPECT_EQ(TaskStops(code), (std::vector<std::string>{"\n```"}));
  EXPECT_TRUE(TaskStops(math).empty());
}

TEST(ParseDataset, NamesTheProblemsOfBenchmarkItems) {
  auto expect_error = [](const std::string& text, const std::string& part) {
    auto r = ParseDataset(text, "d.jsonl");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
  };
  expect_error(R"({"id": "x", "task": "short", "prompt": "p", "answers": []})",
               "\"answers\" must be a non-empty array of strings");
  expect_error(R"({"id": "x", "task": "short", "prompt": "p", "answers": ["a", 3]})",
               "\"answers\" must hold non-empty strings");
  expect_error(R"({"id": "x", "task": "code", "prompt": "p"})", "missing \"tests\"");
  expect_error(R"({"id": "x", "task": "math", "prompt": "p", "answer": "1", "max_tokens": 0})",
               "\"max_tokens\" must be a positive integer");
  expect_error(R"({"id": "x", "task": "math", "prompt": "p", "answer": "1", "tests": "t"})",
               "unexpected field \"tests\" for task math");
}

TEST(Stratify, DrawsASeededSampleOfEachTask) {
  std::vector<Item> items;
  for (int i = 0; i < 10; ++i) items.push_back({"m" + std::to_string(i), Task::kMath});
  auto ids = [](const std::vector<Item>& list) {
    std::vector<std::string> out;
    for (const auto& item : list) out.push_back(item.id);
    return out;
  };
  const auto first = ids(Stratify(items, 4, 42));
  EXPECT_EQ(first, ids(Stratify(items, 4, 42)));
  EXPECT_EQ(first, (std::vector<std::string>{"m1", "m7", "m9", "m0"}));
  EXPECT_NE(first, ids(Stratify(items, 4, 43)));
  EXPECT_EQ(ids(Stratify(items, 4, 0)), (std::vector<std::string>{"m0", "m1", "m2", "m3"}));
}

}  // namespace
}  // namespace specfuse::eval
