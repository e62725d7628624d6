// Code tasks (HumanEval, MBPP): the program a response gives, and pass@1 of the item's
// tests against it, run in the sandbox.
#pragma once

#include <string>

#include "eval/code_sandbox.h"
#include "eval/dataset.h"

namespace specfuse::eval {

// The code of a response: the body of its first fenced block (```python, ```py or ```;
// the block ends at the next fence or at the end of the response), else the whole
// response.
std::string ExtractCode(const std::string& response);

// The program that tests a response: it parses the response's code with Python's ast
// module and runs only its top-level imports, function and class definitions and
// assignments of call-free values (EvalPlus's sanitizing, which drops the prints, asserts
// and __main__ blocks that models write after their solution), then the item's tests.
// Code that does not parse fails with its SyntaxError.
std::string CodeTestProgram(const Item& item, const std::string& response);

// Runs CodeTestProgram in the sandbox.
Result<SandboxRun> RunCodeTests(const Item& item, const std::string& response,
                                const SandboxLimits& limits = {});

}  // namespace specfuse::eval
