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

}  // namespace
}  // namespace specfuse::eval
