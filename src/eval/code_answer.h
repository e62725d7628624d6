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

// Runs the response's code followed by the item's tests in the sandbox.
Result<SandboxRun> RunCodeTests(const Item& item, const std::string& response,
                                const SandboxLimits& limits = {});

}  // namespace specfuse::eval
