#include "server/response_format.h"

#include <algorithm>
#include <vector>

#include "specfuse/json_schema_grammar.h"

namespace specfuse::server {

namespace {

using nlohmann::json;

constexpr const char* kParam = "response_format";
// As deep as specfuse/json_schema_grammar.h takes; checked here before the schema is
// written out as text, which recurses once per level.
constexpr int kMaxSchemaDepth = 64;

ApiError Bad(const std::string& message) { return BadRequest(message, kParam); }

// Fields other than `allowed` are refused by name, as everywhere in a request.
std::optional<ApiError> OnlyFields(const json& obj, const std::vector<std::string>& allowed,
                                   const std::string& where) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
    std::string names;
    for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
    ApiError e = Bad("unknown field '" + where + "." + it.key() + "'; " + where + " takes " + names);
    e.code = "unknown_parameter";
    return e;
  }
  return std::nullopt;
}

// {"name", "description", "schema", "strict"}: OpenAI's json_schema object.
std::optional<ApiError> ParseJsonSchema(const json& format, std::string* grammar) {
  const std::string where = "response_format.json_schema";
  auto spec = format.find("json_schema");
  if (spec == format.end() || spec->is_null()) {
    return Bad("'" + where + "' is required with type json_schema: "
               "{\"name\": ..., \"schema\": {...}, \"strict\": true}");
  }
  if (!spec->is_object()) return Bad("'" + where + "' must be an object");
  if (auto e = OnlyFields(*spec, {"name", "description", "schema", "strict"}, where)) return e;
  if (auto name = spec->find("name"); name != spec->end() && !name->is_null() && !name->is_string()) {
    return Bad("'" + where + ".name' must be a string");
  }
  if (auto d = spec->find("description"); d != spec->end() && !d->is_null() && !d->is_string()) {
    return Bad("'" + where + ".description' must be a string");
  }
  bool strict = false;
  if (auto s = spec->find("strict"); s != spec->end() && !s->is_null()) {
    if (!s->is_boolean()) return Bad("'" + where + ".strict' must be true or false");
    strict = s->get<bool>();
  }
  auto schema = spec->find("schema");
  if (schema == spec->end() || schema->is_null()) {
    return Bad("'" + where + ".schema' is required: the JSON Schema the answer must match");
  }
  if (!schema->is_object()) return Bad("'" + where + ".schema' must be a JSON Schema object");
  if (NestsDeeperThan(*schema, kMaxSchemaDepth)) {
    return Bad("'" + where + ".schema' nests deeper than " + std::to_string(kMaxSchemaDepth) +
               " levels");
  }
  auto converted = JsonSchemaToGrammar(schema->dump(), strict);
  if (!converted.ok()) return Bad("'" + where + ".schema': " + converted.status().message());
  *grammar = std::move(converted).value();
  return std::nullopt;
}

}  // namespace

bool NestsDeeperThan(const json& value, int limit) {
  std::vector<std::pair<const json*, int>> todo = {{&value, 1}};
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    if (d > limit) return true;
    if (v->is_structured()) {
      for (const auto& child : *v) todo.push_back({&child, d + 1});
    }
  }
  return false;
}

std::optional<ApiError> ParseResponseFormat(const json& body, std::string* grammar) {
  grammar->clear();
  auto format = body.find(kParam);
  if (format == body.end() || format->is_null()) return std::nullopt;
  if (!format->is_object()) {
    return Bad("'response_format' must be an object such as {\"type\": \"json_object\"}");
  }
  auto type = format->find("type");
  if (type == format->end() || !type->is_string()) {
    return Bad("'response_format.type' is required: text, json_object or json_schema");
  }
  const std::string t = type->get<std::string>();
  if (t == "text" || t == "json_object") {
    if (auto e = OnlyFields(*format, {"type"}, kParam)) return e;
    if (t == "json_object") *grammar = JsonObjectGrammar();
    return std::nullopt;
  }
  if (t == "json_schema") {
    if (auto e = OnlyFields(*format, {"type", "json_schema"}, kParam)) return e;
    return ParseJsonSchema(*format, grammar);
  }
  return Bad("'response_format.type' is '" + t + "'; specfuse takes text, json_object or json_schema");
}

}  // namespace specfuse::server
