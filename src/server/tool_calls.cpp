#include "server/tool_calls.h"

#include <algorithm>
#include <random>

#include "server/response_format.h"
#include "specfuse/json_schema_grammar.h"

namespace specfuse::server {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// A parameters schema nests inside the schema of a whole call seven levels deep
// (CallsSchema), under the converter's limit of 64.
constexpr int kMaxParametersDepth = 56;
// How deep a call's arguments may nest where they are read back (an answer, an earlier
// assistant message): copying and writing JSON out recurse once per level.
constexpr int kMaxArgumentsDepth = 256;

// text as JSON that keeps its objects' order, or discarded when it is not JSON or nests
// deeper than kMaxArgumentsDepth (checked on a parse that does not recurse).
ordered_json ParseBounded(const std::string& text) {
  json checked = json::parse(text, nullptr, false);
  if (checked.is_discarded() || NestsDeeperThan(checked, kMaxArgumentsDepth)) {
    return ordered_json(ordered_json::value_t::discarded);
  }
  return ordered_json::parse(text, nullptr, false);
}

ApiError Unknown(const std::string& param, const std::string& what, const std::string& takes) {
  ApiError e = BadRequest("unknown field '" + param + "': " + what + " takes " + takes, param);
  e.code = "unknown_parameter";
  return e;
}

std::optional<ApiError> OnlyFields(const json& obj, const std::vector<std::string>& allowed,
                                   const std::string& prefix, const std::string& what) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    std::string names;
    for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
    return Unknown(prefix + "." + it.key(), what, names);
  }
  return std::nullopt;
}

// OpenAI's rule for function names: 1 to 64 of a-z, A-Z, 0-9, '_' and '-'.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::optional<ApiError> ParseParameters(const json& function, const std::string& param, Tool* out) {
  auto p = function.find("parameters");
  if (p == function.end() || p->is_null()) {
    out->parameters = {{"type", "object"}, {"properties", json::object()}};
    return std::nullopt;
  }
  if (!p->is_object()) return BadRequest("'" + param + "' must be a JSON Schema object", param);
  if (NestsDeeperThan(*p, kMaxParametersDepth)) {
    return BadRequest("'" + param + "' nests deeper than " + std::to_string(kMaxParametersDepth) +
                          " levels", param);
  }
  auto converted = JsonSchemaToGrammar(p->dump(), out->strict);
  if (!converted.ok()) return BadRequest("'" + param + "': " + converted.status().message(), param);
  out->parameters = *p;
  return std::nullopt;
}

// tools[i].function: {"name", "description", "parameters", "strict"}.
std::optional<ApiError> ParseFunction(const json& function, const std::string& param, Tool* out) {
  if (!function.is_object()) return BadRequest("'" + param + "' must be an object", param);
  if (auto e = OnlyFields(function, {"name", "description", "parameters", "strict"}, param,
                          "a function")) {
    return e;
  }
  auto name = function.find("name");
  if (name == function.end() || name->is_null()) {
    return BadRequest("'" + param + ".name' is required", param + ".name");
  }
  if (!name->is_string() || !ValidName(name->get<std::string>())) {
    return BadRequest("'" + param + ".name' must be 1 to 64 letters, digits, '_' or '-'",
                      param + ".name");
  }
  out->name = name->get<std::string>();
  if (auto d = function.find("description"); d != function.end() && !d->is_null()) {
    if (!d->is_string()) return BadRequest("'" + param + ".description' must be a string", param + ".description");
    out->description = d->get<std::string>();
  }
  if (auto s = function.find("strict"); s != function.end() && !s->is_null()) {
    if (!s->is_boolean()) return BadRequest("'" + param + ".strict' must be true or false", param + ".strict");
    out->strict = s->get<bool>();
  }
  return ParseParameters(function, param + ".parameters", out);
}

// tools[i]: {"type": "function", "function": {...}}.
std::optional<ApiError> ParseTool(const json& tool, const std::string& param, Tool* out) {
  if (!tool.is_object()) return BadRequest("'" + param + "' must be an object", param);
  // The type first: another kind of tool has its own fields ({"type": "custom", "custom"}).
  auto type = tool.find("type");
  if (type == tool.end() || type->is_null()) {
    return BadRequest("'" + param + ".type' is required: \"function\"", param + ".type");
  }
  if (*type != "function") {
    ApiError e = BadRequest("'" + param + ".type' must be \"function\"; specfuse offers no other "
                            "kind of tool", param + ".type");
    if (type->is_string()) e.code = "unsupported_parameter";
    return e;
  }
  if (auto e = OnlyFields(tool, {"type", "function"}, param, "a tool")) return e;
  auto function = tool.find("function");
  if (function == tool.end() || function->is_null()) {
    return BadRequest("'" + param + ".function' is required", param + ".function");
  }
  return ParseFunction(*function, param + ".function", out);
}

std::optional<ApiError> ParseToolList(const json& body, ToolRequest* out) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return std::nullopt;
  if (!tools->is_array()) return BadRequest("'tools' must be an array of tools", "tools");
  if (tools->size() > kMaxTools) {
    return BadRequest("'tools' holds at most " + std::to_string(kMaxTools) + " tools", "tools");
  }
  for (size_t i = 0; i < tools->size(); ++i) {
    const std::string param = "tools[" + std::to_string(i) + "]";
    Tool tool;
    if (auto e = ParseTool((*tools)[i], param, &tool)) return e;
    for (const Tool& earlier : out->tools) {
      if (earlier.name == tool.name) {
        return BadRequest("'" + param + ".function.name' is '" + tool.name +
                              "', the name of an earlier tool; names must be unique",
                          param + ".function.name");
      }
    }
    out->tools.push_back(std::move(tool));
  }
  return std::nullopt;
}

// {"type": "function", "function": {"name": ...}}: that tool, which must be offered.
std::optional<ApiError> ParseNamedChoice(const json& choice, ToolRequest* out) {
  if (auto e = OnlyFields(choice, {"type", "function"}, "tool_choice", "tool_choice")) return e;
  if (choice.value("type", json()) != "function") {
    return BadRequest("'tool_choice.type' must be \"function\" (or tool_choice one of none, auto, "
                      "required)", "tool_choice.type");
  }
  auto function = choice.find("function");
  if (function == choice.end() || !function->is_object()) {
    return BadRequest("'tool_choice.function' must be an object {\"name\": ...}", "tool_choice.function");
  }
  if (auto e = OnlyFields(*function, {"name"}, "tool_choice.function", "tool_choice.function")) return e;
  auto name = function->find("name");
  if (name == function->end() || !name->is_string()) {
    return BadRequest("'tool_choice.function.name' is required", "tool_choice.function.name");
  }
  out->named = name->get<std::string>();
  bool offered = std::any_of(out->tools.begin(), out->tools.end(),
                             [&](const Tool& t) { return t.name == out->named; });
  if (!offered) {
    return BadRequest("'tool_choice.function.name' is '" + out->named + "', which is not in 'tools'",
                      "tool_choice.function.name");
  }
  out->choice = ToolRequest::Choice::kNamed;
  return std::nullopt;
}

std::optional<ApiError> ParseChoice(const json& body, ToolRequest* out) {
  using Choice = ToolRequest::Choice;
  out->choice = out->tools.empty() ? Choice::kNone : Choice::kAuto;
  auto choice = body.find("tool_choice");
  if (choice == body.end() || choice->is_null()) return std::nullopt;
  if (*choice == "none") {
    out->choice = Choice::kNone;
    return std::nullopt;
  }
  if (out->tools.empty()) {
    return BadRequest("'tool_choice' asks for tool calls, but 'tools' offers none; send tools, or "
                      "tool_choice \"none\"", "tool_choice");
  }
  if (*choice == "auto") return std::nullopt;
  if (*choice == "required") {
    out->choice = Choice::kRequired;
    return std::nullopt;
  }
  if (choice->is_object()) return ParseNamedChoice(*choice, out);
  return BadRequest("'tool_choice' must be \"none\", \"auto\", \"required\" or "
                    "{\"type\": \"function\", \"function\": {\"name\": ...}}", "tool_choice");
}

// Every "$ref" to the parameters document ("#...") re-pointed into the call schema, where
// the parameters now sit at `base`.
json Rebased(const json& parameters, const std::string& base) {
  json out = parameters;
  std::vector<json*> todo = {&out};
  while (!todo.empty()) {
    json* v = todo.back();
    todo.pop_back();
    if (v->is_object()) {
      auto ref = v->find("$ref");
      if (ref != v->end() && ref->is_string() && ref->get<std::string>().rfind('#', 0) == 0) {
        *ref = base + ref->get<std::string>().substr(1);
      }
    }
    if (v->is_structured()) {
      for (auto& child : *v) todo.push_back(&child);
    }
  }
  return out;
}

// The JSON Schema of the answers that are tool calls: {"tool_calls": [call, ...]} where
// each call is {"name": <an allowed tool>, "arguments": <its parameters>}.
ordered_json CallsSchema(const ToolRequest& request) {
  ordered_json calls = ordered_json::array();
  for (const Tool& tool : request.tools) {
    if (request.choice == ToolRequest::Choice::kNamed && tool.name != request.named) continue;
    const std::string base = "#/properties/tool_calls/items/anyOf/" + std::to_string(calls.size()) +
                             "/properties/arguments";
    ordered_json properties = ordered_json::object();
    properties["name"] = {{"const", tool.name}};
    properties["arguments"] = ordered_json::parse(Rebased(tool.parameters, base).dump());
    calls.push_back({{"type", "object"},
                     {"properties", properties},
                     {"required", {"name", "arguments"}},
                     {"additionalProperties", false}});
  }
  ordered_json list = {{"type", "array"}, {"items", {{"anyOf", calls}}}, {"minItems", 1}};
  if (!request.parallel) list["maxItems"] = 1;
  return {{"type", "object"},
          {"properties", {{"tool_calls", list}}},
          {"required", {"tool_calls"}},
          {"additionalProperties", false}};
}

// The grammar's root rule renamed, so that another root can choose between it and text.
std::string RenameRoot(const std::string& grammar, const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < grammar.size()) {
    size_t end = grammar.find('\n', start);
    if (end == std::string::npos) end = grammar.size();
    std::string line = grammar.substr(start, end - start);
    if (line.rfind("root ::=", 0) == 0) line = name + line.substr(4);
    out += line + "\n";
    start = end + 1;
  }
  return out;
}

// Text that cannot be read as a tool call: it starts with neither '{' nor white space.
constexpr const char* kPlainText = "sf-plain-text ::= [^{ \\t\\r\\n] .*\n";

std::string RandomCallId() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += kChars[rng() % 62];
  return id;
}

}  // namespace

std::optional<ApiError> ParseTools(const json& body, ToolRequest* out) {
  *out = ToolRequest();
  if (auto e = ParseToolList(body, out)) return e;
  if (auto e = ParseChoice(body, out)) return e;
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) return BadRequest("'parallel_tool_calls' must be true or false", "parallel_tool_calls");
    out->parallel = p->get<bool>();
  }
  return std::nullopt;
}

std::optional<ApiError> ToolGrammar(const ToolRequest& request, std::string* grammar) {
  grammar->clear();
  if (!request.offered()) return std::nullopt;
  const bool strict = std::all_of(request.tools.begin(), request.tools.end(),
                                  [](const Tool& t) { return t.strict; });
  auto calls = JsonSchemaToGrammar(CallsSchema(request).dump(), strict);
  if (!calls.ok()) return BadRequest("'tools': " + calls.status().message(), "tools");
  if (request.choice != ToolRequest::Choice::kAuto) {
    *grammar = std::move(calls).value();
    return std::nullopt;
  }
  // Plain text may start with anything but '{' and white space, so the first character
  // decides: '{' starts a tool call, anything else plain text.
  *grammar = "root ::= sf-tool-call | sf-plain-text\n" + std::string(kPlainText) +
             RenameRoot(*calls, "sf-tool-call");
  return std::nullopt;
}

const std::string& TextGrammar() {
  static const std::string grammar = "root ::= sf-plain-text\n" + std::string(kPlainText);
  return grammar;
}

std::string ToolsSystemText(const ToolRequest& request) {
  using Choice = ToolRequest::Choice;
  std::string text = "You can call these tools:\n";
  for (const Tool& tool : request.tools) {
    text += "\n- " + tool.name + (tool.description.empty() ? "" : ": " + tool.description) +
            "\n  arguments (JSON Schema): " + tool.parameters.dump() + "\n";
  }
  text += "\nTo call a tool, answer with only this JSON, nothing before or after it:\n"
          "{\"tool_calls\":[{\"name\":\"<tool name>\",\"arguments\":{<its arguments>}}]}\n";
  text += request.parallel ? "To call several tools at once, put one object per call in the list.\n"
                           : "Call one tool at a time: put exactly one call in the list.\n";
  if (request.choice == Choice::kAuto) {
    text += "When no tool is needed, answer in plain text instead.";
  } else if (request.choice == Choice::kRequired) {
    text += "Call a tool now.";
  } else {
    text += "Call the tool " + request.named + " now.";
  }
  return text;
}

void OfferTools(const ToolRequest& request, std::vector<ChatMessage>* messages) {
  if (!request.offered()) return;
  const std::string text = ToolsSystemText(request);
  if (!messages->empty() && messages->front().role == "system") {
    messages->front().content += "\n\n" + text;
  } else {
    messages->insert(messages->begin(), ChatMessage{"system", text});
  }
}

std::optional<ApiError> AssistantCallsText(const json& tool_calls, const std::string& param,
                                           std::vector<std::pair<std::string, std::string>>* names,
                                           std::string* text) {
  if (!tool_calls.is_array()) return BadRequest("'" + param + "' must be an array of tool calls", param);
  ordered_json calls = ordered_json::array();
  for (size_t j = 0; j < tool_calls.size(); ++j) {
    const std::string p = param + "[" + std::to_string(j) + "]";
    const json& call = tool_calls[j];
    if (!call.is_object()) return BadRequest("'" + p + "' must be an object", p);
    if (auto e = OnlyFields(call, {"id", "type", "function"}, p, "a tool call")) return e;
    auto id = call.find("id");
    if (id == call.end() || !id->is_string()) return BadRequest("'" + p + ".id' must be a string", p + ".id");
    if (call.value("type", json("function")) != "function") {
      return BadRequest("'" + p + ".type' must be \"function\"", p + ".type");
    }
    auto function = call.find("function");
    if (function == call.end() || !function->is_object()) {
      return BadRequest("'" + p + ".function' must be an object {\"name\", \"arguments\"}", p + ".function");
    }
    if (auto e = OnlyFields(*function, {"name", "arguments"}, p + ".function", "a function call")) return e;
    auto name = function->find("name");
    if (name == function->end() || !name->is_string()) {
      return BadRequest("'" + p + ".function.name' must be a string", p + ".function.name");
    }
    auto arguments = function->find("arguments");
    ordered_json args;
    if (arguments != function->end() && arguments->is_string()) {
      args = ParseBounded(arguments->get<std::string>());
    }
    if (!args.is_object()) {
      return BadRequest("'" + p + ".function.arguments' must be a string holding a JSON object "
                            "(nested at most " + std::to_string(kMaxArgumentsDepth) + " deep)",
                        p + ".function.arguments");
    }
    calls.push_back({{"name", name->get<std::string>()}, {"arguments", args}});
    names->push_back({id->get<std::string>(), name->get<std::string>()});
  }
  *text = calls.empty() ? "" : ordered_json({{"tool_calls", calls}}).dump();
  return std::nullopt;
}

std::string ToolResultText(const std::string& name, const std::string& call_id,
                           const std::string& content) {
  return "The tool " + name + " (call " + call_id + ") returned:\n" + content;
}

json ReadToolCalls(const std::string& answer) {
  ordered_json j = ParseBounded(answer);
  if (!j.is_object() || j.size() != 1 || !j.contains("tool_calls")) return nullptr;
  const ordered_json& calls = j["tool_calls"];
  if (!calls.is_array() || calls.empty()) return nullptr;
  json out = json::array();
  for (const ordered_json& call : calls) {
    if (!call.is_object() || !call.contains("name") || !call["name"].is_string() ||
        !call.contains("arguments") || !call["arguments"].is_object()) {
      return nullptr;
    }
    out.push_back({{"id", RandomCallId()},
                   {"type", "function"},
                   {"function", {{"name", call["name"].get<std::string>()},
                                 {"arguments", call["arguments"].dump()}}}});
  }
  return out;
}

HeldToolCall::HeldToolCall(const ToolRequest& request)
    : mode_(!request.offered() ? Mode::kText
            : request.choice == ToolRequest::Choice::kAuto ? Mode::kUndecided
                                                            : Mode::kHeld) {}

std::string HeldToolCall::Take(const std::string& segment) {
  if (mode_ == Mode::kText) return segment;
  held_ += segment;
  if (mode_ == Mode::kUndecided) {
    const size_t first = held_.find_first_not_of(" \t\r\n");
    if (first != std::string::npos) mode_ = held_[first] == '{' ? Mode::kHeld : Mode::kText;
    if (mode_ == Mode::kText) return Rest();
  }
  return "";
}

std::string HeldToolCall::Rest() {
  std::string rest;
  rest.swap(held_);
  return rest;
}

}  // namespace specfuse::server
