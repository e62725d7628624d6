// The response_format field of /v1/chat/completions (and /v1/completions, as vLLM takes
// it): free text, OpenAI's JSON mode ({"type": "json_object"}) or structured outputs
// ({"type": "json_schema", "json_schema": {"name", "description", "schema", "strict"}}),
// turned into the grammar that every drafter of the ensemble samples under.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_errors.h"

namespace specfuse::server {

// Reads body["response_format"] into *grammar: "" for free text (absent, null or
// {"type": "text"}), else the GBNF grammar of the JSON it asks for. Returns a 400 naming
// response_format, and what to fix, when the field is malformed or its schema cannot be
// enforced (a feature llama.cpp's converter lacks; with strict, also a pattern it cannot
// express).
std::optional<ApiError> ParseResponseFormat(const nlohmann::json& body, std::string* grammar);

// Whether a JSON value nests deeper than limit levels, walked without recursion (so that
// a schema can be checked before anything writes it out or recurses over it).
bool NestsDeeperThan(const nlohmann::json& value, int limit);

}  // namespace specfuse::server
