// Structured output: the grammar that keeps an answer inside a JSON Schema, for
// SamplingOptions::grammar. The conversion is llama.cpp's own JSON-schema-to-grammar
// converter (its common/ library), so what it supports is what llama-server supports.
// Thread-safe.
#pragma once

#include <string>

#include "specfuse/status.h"

namespace specfuse {

// The GBNF grammar (root rule "root") of the JSON texts that validate against schema_json,
// with object properties in the order schema_json writes them,
// a JSON Schema given as JSON text. Fails with kInvalidArgument, its message naming the
// schema's problem, when schema_json is not JSON, not a schema, or uses what the converter
// cannot express (a $ref outside the document, ...). A `pattern` the converter cannot
// express fails too when strict is true; otherwise that string accepts any text.
Result<std::string> JsonSchemaToGrammar(const std::string& schema_json, bool strict);

// The grammar of any JSON object (OpenAI's JSON mode): the converter's grammar for the
// schema {"type": "object"}.
const std::string& JsonObjectGrammar();

}  // namespace specfuse
