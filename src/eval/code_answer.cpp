#include "eval/code_answer.h"

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

Result<SandboxRun> RunCodeTests(const Item& item, const std::string& response, const SandboxLimits& limits) {
  return RunSandboxedPython(ExtractCode(response) + "\n\n" + item.tests, limits);
}

}  // namespace specfuse::eval
