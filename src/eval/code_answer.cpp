#include "eval/code_answer.h"

#include <nlohmann/json.hpp>

namespace specfuse::eval {

std::string ExtractCode(const std::string& response) {
  const size_t fence = response.find("```");
  if (fence == std::string::npos) return response;
  size_t body = response.find('\n', fence);
  if (body == std::string::npos) return "";
  ++body;
  size_t end = response.find("```", body);
  return response.substr(body, end == std::string::npos ? std::string::npos : end - body);
}

namespace {

// Runs the solution's definitions in the program's globals, as if they were written
// there; the source arrives as a JSON string, which is a valid Python string literal.
constexpr const char* kSanitizer = R"PY(import ast as _ast

def _specfuse_definitions(source):
    tree = _ast.parse(source, "solution.py")
    def call_free(node):
        return not any(isinstance(n, _ast.Call) for n in _ast.walk(node))
    keep = [n for n in tree.body
            if isinstance(n, (_ast.Import, _ast.ImportFrom, _ast.FunctionDef, _ast.AsyncFunctionDef, _ast.ClassDef))
            or (isinstance(n, (_ast.Assign, _ast.AnnAssign)) and n.value is not None and call_free(n.value))]
    return compile(_ast.Module(body=keep, type_ignores=[]), "solution.py", "exec")

exec(_specfuse_definitions()PY";

}  // namespace

std::string CodeTestProgram(const Item& item, const std::string& response) {
  const std::string source =
      nlohmann::json(ExtractCode(response)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return std::string(kSanitizer) + source + "))\n\n" + item.tests;
}

Result<SandboxRun> RunCodeTests(const Item& item, const std::string& response, const SandboxLimits& limits) {
  return RunSandboxedPython(CodeTestProgram(item, response), limits);
}

}  // namespace specfuse::eval
