// Evaluation items: one JSON object per line, read and checked (eval/README.md describes
// the format).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "specfuse/status.h"

namespace specfuse::eval {

enum class Task {
  kArithmetic,   // short answer: a number
  kFactual,      // short answer: a word or a name
  kChoice,       // multiple choice: "choices" and the correct letter in "answer"
  kInstruction,  // free text, compared with "reference"
  kMath,         // a word problem (GSM8K): the final number, compared numerically
  kShort,        // a short answer (TriviaQA) with aliases in "answers"
  kCode,         // a Python task (HumanEval, MBPP): "tests" run against the answer's code
};

// arithmetic|factual|choice|instruction|math|short|code
Result<Task> ParseTask(const std::string& name);
const char* TaskName(Task task);

struct Item {
  std::string id;
  Task task = Task::kFactual;
  std::string prompt;
  std::string answer;                // arithmetic, factual: the answer; choice: "A".."Z"
  std::vector<std::string> choices;  // choice only
  std::string reference;             // instruction only
  std::vector<std::string> answers;  // short: the answer and its aliases
  std::string tests;                 // code: Python run after the answer's code
  std::string solution;              // code, optional: a reference solution
  int max_tokens = 0;                // > 0: this item's answer budget, overriding the run's
};

// The user message a model sees: a fixed zero-shot template per task around the prompt
// (eval/README.md prints them). Multiple choice: the lettered choices and a request to
// answer with a letter; math: reason step by step and end with "The answer is N."; short:
// answer in a few words; code: EvalPlus's instruction, the prompt in a code fence.
std::string RenderPrompt(const Item& item);

// The text every method's answer starts with, as if the assistant had written it
// (EvalPlus's response prefix for code, which opens a Python code block); empty for the
// other tasks. The answer's text follows it.
std::string ResponsePrefix(const Item& item);

// Stop strings the task adds to the run's: for code, the fence that closes the response
// prefix's code block ("\n```", as EvalPlus stops chat models), so the explanation that
// models write after their code is not generated.
std::vector<std::string> TaskStops(const Item& item);

// Parses JSON lines (blank lines are skipped). Errors name origin:line and the problem:
// malformed JSON, a missing or mistyped field, a field the task does not take, an
// unknown task, a duplicate id, a choice answer that is not one of the letters.
Result<std::vector<Item>> ParseDataset(const std::string& text, const std::string& origin);
Result<std::vector<Item>> LoadDataset(const std::string& path);

// The first `per_task` items of each task type (per_task <= 0: all), interleaved: the
// first item of each task in order of first appearance, then the second of each, ... so
// that a run stopped early has covered every task type alike. With a sample_seed other
// than 0, each task's items are first put in an order drawn from that seed (Fisher-Yates
// over mt19937_64, the same on every platform), so the first per_task are a seeded random
// sample.
std::vector<Item> Stratify(const std::vector<Item>& items, int per_task, uint64_t sample_seed = 0);

}  // namespace specfuse::eval
