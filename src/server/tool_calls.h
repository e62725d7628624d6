// Tool calling through the ensemble: OpenAI's `tools`, `tool_choice` and
// `parallel_tool_calls`, in one text that every member reads and writes whatever its chat
// template. The tools are described to every member in one system text (ToolsSystemText);
// a tool call is an answer that is exactly the JSON text
//   {"tool_calls":[{"name":"<tool>","arguments":{...}}]}
// which the drafters write under a grammar made from the tools' parameter schemas, so the
// name is one of the tools and the arguments validate against its schema. Earlier calls and
// their results are replayed in the same text (AssistantCallsText, ToolResultText).
// docs/SERVER.md, "Tool calls", is the user's description.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_errors.h"
#include "specfuse/model.h"

namespace specfuse::server {

struct Tool {
  std::string name;
  std::string description;
  nlohmann::json parameters;  // a JSON Schema object; {"type": "object"} when absent
  bool strict = false;
};

struct ToolRequest {
  enum class Choice {
    kNone,      // no tools offered (no `tools`, or tool_choice "none"): plain text
    kAuto,      // plain text or a tool call, as the ensemble decides
    kRequired,  // one or more tool calls
    kNamed,     // calls of the tool `named` only
  };
  std::vector<Tool> tools;
  Choice choice = Choice::kNone;
  std::string named;
  bool parallel = true;  // parallel_tool_calls: several calls in one answer
  // No tools offered, but tools given (tool_choice "none") or calls made earlier in the
  // conversation: the answer is text, and must not look like a call (TextGrammar).
  bool text_only = false;

  bool offered() const { return choice != Choice::kNone; }
};

// The most tools one request may offer (OpenAI's limit).
inline constexpr size_t kMaxTools = 128;

// Reads body["tools"], body["tool_choice"] and body["parallel_tool_calls"]. Returns a 400
// naming the field (tools[i].function.name, tool_choice, ...) when one is malformed, when
// a parameters schema cannot be enforced, or when tool_choice names no offered tool.
std::optional<ApiError> ParseTools(const nlohmann::json& body, ToolRequest* out);

// The GBNF grammar of the answers the request allows: tool calls only (required, named),
// or a tool call or plain text that does not start with '{' (auto). Fails with a 400
// naming tools when the tools together cannot be enforced.
std::optional<ApiError> ToolGrammar(const ToolRequest& request, std::string* grammar);

// The grammar of a text answer that cannot be read as a tool call: any text that starts
// with neither '{' nor white space (the text branch of tool_choice auto's grammar).
const std::string& TextGrammar();

// The system text that describes the offered tools and the form of a call, for every member.
std::string ToolsSystemText(const ToolRequest& request);

// Puts the tools' system text before the conversation: into its leading system message,
// after that message's own text, or as a new first message.
void OfferTools(const ToolRequest& request, std::vector<ChatMessage>* messages);

// The text of an assistant message that made tool calls: its OpenAI `tool_calls` array
// rendered in the one form above. Returns a 400 naming param (messages[i].tool_calls)
// when a call is malformed or its arguments are not a JSON object. `names` gets each
// call's id and function name, for the tool results that follow.
std::optional<ApiError> AssistantCallsText(
    const nlohmann::json& tool_calls, const std::string& param,
    std::vector<std::pair<std::string, std::string>>* names, std::string* text);

// The user message text that reports a tool's result to every member.
std::string ToolResultText(const std::string& name, const std::string& call_id,
                           const std::string& content);

// The tool calls an answer made, in OpenAI's message.tool_calls shape (each with a fresh
// "call_..." id and its arguments as a JSON string); null when the answer is not a tool call.
nlohmann::json ReadToolCalls(const std::string& answer);

// What a stream shows of an answer that may be a tool call. A tool call is known only once
// its JSON is complete, so its text is held back and the call is sent whole at the end;
// plain text streams as it comes. With tool_choice auto the first character that is not
// white space decides ('{' starts a tool call). Not thread-safe.
class HeldToolCall {
 public:
  explicit HeldToolCall(const ToolRequest& request);
  // The text to stream now, given the answer's next accepted segment.
  std::string Take(const std::string& segment);
  // At the end of an answer that is not a tool call: the text held back so far.
  std::string Rest();

 private:
  enum class Mode { kText, kUndecided, kHeld };
  Mode mode_;
  std::string held_;
};

}  // namespace specfuse::server
