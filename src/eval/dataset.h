// Evaluation items: one JSON object per line, read and checked (eval/README.md describes
// the format).
#pragma once

#include <string>
#include <vector>

#include "specfuse/status.h"

namespace specfuse::eval {

enum class Task {
  kArithmetic,   // short answer: a number
  kFactual,      // short answer: a word or a name
  kChoice,       // multiple choice: "choices" and the correct letter in "answer"
  kInstruction,  // free text, compared with "reference"
};

Result<Task> ParseTask(const std::string& name);  // arithmetic|factual|choice|instruction
const char* TaskName(Task task);

struct Item {
  std::string id;
  Task task = Task::kFactual;
  std::string prompt;
  std::string answer;                // arithmetic, factual: the answer; choice: "A".."Z"
  std::vector<std::string> choices;  // choice only
  std::string reference;             // instruction only
};

// The user message a model sees: the prompt, and for multiple choice the lettered
// choices and a request to answer with a letter.
std::string RenderPrompt(const Item& item);

// Parses JSON lines (blank lines are skipped). Errors name origin:line and the problem:
// malformed JSON, a missing or mistyped field, a field the task does not take, an
// unknown task, a duplicate id, a choice answer that is not one of the letters.
Result<std::vector<Item>> ParseDataset(const std::string& text, const std::string& origin);
Result<std::vector<Item>> LoadDataset(const std::string& path);

// The first `per_task` items of each task type (per_task <= 0: all), interleaved: the
// first item of each task in order of first appearance, then the second of each, ... so
// that a run stopped early has covered every task type alike.
std::vector<Item> Stratify(const std::vector<Item>& items, int per_task);

}  // namespace specfuse::eval
