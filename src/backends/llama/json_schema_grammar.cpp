#include "specfuse/json_schema_grammar.h"

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

// llama.cpp's converter, compiled from its source tree (CMakeLists.txt: specfuse_json_grammar).
#include "json-schema-to-grammar.h"

namespace specfuse {

namespace {

// The converter recurses once per level of the schema; deeper schemas are refused before
// they reach it, so that a request cannot exhaust a thread's stack.
constexpr int kMaxSchemaDepth = 64;

Status Invalid(std::string message) {
  return Status::Error(ErrorCode::kInvalidArgument, std::move(message));
}

// How deep the JSON value nests, walked without recursion; stops counting past limit.
int Depth(const nlohmann::json& value, int limit) {
  std::vector<std::pair<const nlohmann::json*, int>> todo = {{&value, 1}};
  int deepest = 0;
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > limit) return deepest;
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back({&child, d + 1});
    }
  }
  return deepest;
}

// Every string value of a "pattern" keyword in the schema.
std::set<std::string> Patterns(const nlohmann::json& schema) {
  std::set<std::string> out;
  std::vector<const nlohmann::json*> todo = {&schema};
  while (!todo.empty()) {
    const nlohmann::json* v = todo.back();
    todo.pop_back();
    if (v->is_object()) {
      auto p = v->find("pattern");
      if (p != v->end() && p->is_string()) out.insert(p->get<std::string>());
    }
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back(&child);
    }
  }
  return out;
}

// The converter reads the schema text itself, so that properties keep the order they are
// written in (nlohmann::json would sort them).
std::string Convert(const std::string& schema_json) {
  return json_schema_to_grammar(common_json::parse(schema_json));
}

// Where the converter cannot express a pattern it warns on stderr and accepts any string
// there, the same grammar for every pattern it drops: the one it gives for a lookahead
// (worked out once; its warning is logged once).
std::optional<std::string> DroppedPattern(const std::set<std::string>& patterns) {
  if (patterns.empty()) return std::nullopt;
  auto with = [](const std::string& p) { return Convert(nlohmann::json({{"type", "string"}, {"pattern", p}}).dump()); };
  static const std::string dropped = with("^(?=a)a$");
  for (const std::string& p : patterns) {
    if (with(p) == dropped) return p;
  }
  return std::nullopt;
}

// The converter's messages start with its own preamble; the part after it names the problem.
std::string Reason(const std::exception& e) {
  std::string what = e.what();
  const std::string preamble = "JSON schema conversion failed:\n";
  while (what.rfind(preamble, 0) == 0) what = what.substr(preamble.size());
  for (char& c : what) {
    if (c == '\n') c = ';';
  }
  return what;
}

}  // namespace

Result<std::string> JsonSchemaToGrammar(const std::string& schema_json, bool strict) {
  nlohmann::json schema = nlohmann::json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return Invalid("the JSON schema is not valid JSON");
  if (!schema.is_object() && !schema.is_boolean()) {
    return Invalid("the JSON schema must be an object (or true/false)");
  }
  if (Depth(schema, kMaxSchemaDepth) > kMaxSchemaDepth) {
    return Invalid("the JSON schema nests deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
  }
  try {
    if (strict) {
      if (auto p = DroppedPattern(Patterns(schema))) {
        return Invalid("the pattern '" + *p +
                       "' uses regular-expression syntax the grammar cannot express (lookaround, "
                       "backreferences, anchors inside the pattern, ...); simplify it, or send "
                       "strict: false to accept any string there");
      }
    }
    std::string grammar = Convert(schema_json);
    if (grammar.empty()) return Invalid("the JSON schema gives an empty grammar");
    return grammar;
  } catch (const std::exception& e) {
    return Invalid("the JSON schema cannot be enforced: " + Reason(e));
  }
}

const std::string& JsonObjectGrammar() {
  static const std::string grammar = Convert(R"({"type": "object"})");
  return grammar;
}

}  // namespace specfuse
