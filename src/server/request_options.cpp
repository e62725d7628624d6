#include "server/request_options.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "server/response_format.h"
#include "specfuse/option_table.h"

namespace specfuse::server {

namespace {

using nlohmann::json;

std::optional<ApiError> GetInt(const json& obj, const char* key, const std::string& param, int min,
                               int max, std::optional<int>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return BadRequest("'" + param + "' must be an integer", param);
  // Huge unsigned values must not wrap into range.
  bool huge = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max);
  if (huge || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    return BadRequest("'" + param + "' must be between " + std::to_string(min) + " and " +
                          std::to_string(max),
                      param);
  }
  *out = static_cast<int>(it->get<int64_t>());
  return std::nullopt;
}

std::optional<ApiError> GetBool(const json& obj, const char* key, const std::string& param,
                                bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return BadRequest("'" + param + "' must be true or false", param);
  *out = it->get<bool>();
  return std::nullopt;
}

// What a request field does here. Every field of OpenAI's request schemas has a row in its
// endpoint's table (docs/SERVER.md lists them); a field in no row is refused as unknown.
enum class Disposition {
  kSupported,  // parsed and honoured by the parsers below
  kIgnored,    // accepted without effect, which OpenAI's meaning of the field allows
  kRefused,    // 400 unsupported_parameter naming the field
};

struct FieldRule {
  const char* name;
  Disposition disposition;
  // The non-null values taken without effect; values outside it are refused. Unset: every
  // value of an ignored field, none of a refused one. Must not recurse (bodies nest deep).
  bool (*accepts)(const json&) = nullptr;
  const char* advice = "";  // why specfuse refuses it and what to send instead
};

bool IsZero(const json& v) { return v.is_number() && v.get<double>() == 0; }
bool IsOne(const json& v) { return v.is_number_integer() && v.get<int64_t>() == 1; }
bool IsFalse(const json& v) { return v.is_boolean() && !v.get<bool>(); }
bool IsEmptyArray(const json& v) { return v.is_array() && v.empty(); }
bool IsEmptyObject(const json& v) { return v.is_object() && v.empty(); }
bool IsEmptyString(const json& v) { return v == ""; }
bool IsNone(const json& v) { return v == "none"; }
bool IsMedium(const json& v) { return v == "medium"; }
bool IsTextOnly(const json& v) { return v.is_array() && v.size() == 1 && v[0] == "text"; }

bool IsStandardTier(const json& v) { return v == "auto" || v == "default"; }

using enum Disposition;

constexpr FieldRule kFrequencyPenalty = {"frequency_penalty", kRefused, IsZero,
                                         "no repetition penalties; remove it or send 0"};
constexpr FieldRule kPresencePenalty = {"presence_penalty", kRefused, IsZero,
                                        "no repetition penalties; remove it or send 0"};
constexpr FieldRule kLogitBias = {"logit_bias", kRefused, IsEmptyObject,
                                  "no token biases (the members' tokenizers differ); "
                                  "remove it or send {}"};

// POST /v1/chat/completions: OpenAI's CreateChatCompletionRequest, field by field.
constexpr FieldRule kChatFields[] = {
    {"messages", kSupported},
    {"model", kSupported},
    {"audio", kRefused, nullptr, "it generates text only; remove it"},
    kFrequencyPenalty,
    {"function_call", kRefused, IsNone,
     "the deprecated form of tool_choice; remove it or send \"none\", and use tool_choice"},
    {"functions", kRefused, IsEmptyArray,
     "the deprecated form of tools; remove it or send [], and use tools"},
    kLogitBias,
    {"logprobs", kRefused, IsFalse,
     "chat answers carry no log-probabilities; remove it or send false, or ask "
     "/v1/completions (\"logprobs\": N) with one member as the model"},
    {"max_completion_tokens", kSupported},
    {"max_tokens", kSupported},
    {"metadata", kIgnored},  // tags for stored objects; nothing is stored
    {"modalities", kRefused, IsTextOnly, "it generates text only; remove it or send [\"text\"]"},
    {"moderation", kRefused, nullptr, "no moderation; remove it"},
    {"n", kSupported},  // 1 to kMaxChoices
    {"parallel_tool_calls", kSupported},  // server/tool_calls.h
    {"prediction", kRefused, nullptr, "no predicted outputs; remove it"},
    kPresencePenalty,
    {"prompt_cache_key", kIgnored},        // cache routing hint
    {"prompt_cache_options", kIgnored},    // cache hint
    {"prompt_cache_retention", kIgnored},  // cache hint
    {"reasoning_effort", kRefused, IsNone, "its models do not reason; remove it or send \"none\""},
    {"response_format", kSupported},  // text, json_object, json_schema (server/response_format.h)
    {"safety_identifier", kIgnored},  // abuse-monitoring id
    {"seed", kSupported},
    {"service_tier", kIgnored, IsStandardTier,
     "one service tier only; remove it or send \"auto\" or \"default\""},
    {"stop", kSupported},
    {"store", kIgnored, IsFalse, "nothing is stored; remove it or send false"},
    {"stream", kSupported},
    {"stream_options", kSupported},
    {"temperature", kSupported},
    {"tool_choice", kSupported},  // server/tool_calls.h
    {"tools", kSupported},        // server/tool_calls.h
    {"top_logprobs", kRefused, IsZero,
     "chat answers carry no log-probabilities; remove it or send 0, or ask "
     "/v1/completions (\"logprobs\": N) with one member as the model"},
    {"top_p", kSupported},
    {"user", kIgnored},  // end-user id for abuse monitoring
    {"verbosity", kRefused, IsMedium, "it cannot steer verbosity; remove it or send \"medium\""},
    {"web_search_options", kRefused, nullptr, "no web search; remove it"},
    {"specfuse", kSupported},  // the ensemble's own options
};

// POST /v1/completions: OpenAI's (legacy) CreateCompletionRequest.
constexpr FieldRule kCompletionFields[] = {
    {"model", kSupported},
    {"prompt", kSupported},
    {"response_format", kSupported},  // not OpenAI's, but vLLM's and llama-server's
    {"best_of", kRefused, IsOne, "one completion per request; remove it or send 1"},
    {"echo", kSupported},
    kFrequencyPenalty,
    kLogitBias,
    {"logprobs", kSupported},
    {"max_tokens", kSupported},
    {"n", kSupported},  // 1 to kMaxChoices
    kPresencePenalty,
    {"seed", kSupported},
    {"stop", kSupported},
    {"stream", kSupported},
    {"stream_options", kSupported},
    {"suffix", kRefused, IsEmptyString, "no insertion before a suffix; remove it or send \"\""},
    {"temperature", kSupported},
    {"top_p", kSupported},
    {"user", kIgnored},  // end-user id for abuse monitoring
    {"specfuse", kSupported},
};

constexpr FieldRule kStreamOptionsFields[] = {
    {"include_usage", kSupported},
    {"include_obfuscation", kIgnored},  // random padding against length side channels
};

// A message of any role; the role itself is checked on its own.
constexpr FieldRule kMessageFields[] = {
    {"role", kSupported},
    {"content", kSupported},
    {"name", kIgnored},  // a participant's name: a hint to the model, which a model may disregard
    {"audio", kRefused, nullptr, "earlier audio answers cannot be replayed; remove it"},
    {"function_call", kRefused, nullptr,
     "the deprecated form of tool_calls; remove it and send tool_calls"},
    {"refusal", kRefused, nullptr, "an earlier refusal cannot be replayed; remove it"},
    {"tool_call_id", kSupported},  // tool messages
    {"tool_calls", kSupported},    // assistant messages
};

constexpr FieldRule kTextPartFields[] = {
    {"type", kSupported},
    {"text", kSupported},
    {"prompt_cache_breakpoint", kIgnored},  // cache hint
};

ApiError Refusal(const std::string& param, std::string message, const char* code) {
  ApiError e = BadRequest(std::move(message), param);
  e.code = code;
  return e;
}

// Checks every field of `obj` against `rules`; `prefix` makes the field a param
// ("messages[2]."), `what` names the object for unknown fields.
std::optional<ApiError> CheckFields(const json& obj, std::span<const FieldRule> rules,
                                    const std::string& prefix, const char* what) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    auto rule = std::find_if(rules.begin(), rules.end(),
                             [&](const FieldRule& r) { return key == r.name; });
    if (rule == rules.end()) {
      return Refusal(prefix + key,
                     "unknown field '" + prefix + key + "': " + what +
                         " has no such field in OpenAI's API or in specfuse's; remove it",
                     "unknown_parameter");
    }
    if (rule->disposition == Disposition::kSupported || it->is_null()) continue;
    bool accepted = rule->accepts ? rule->accepts(*it) : rule->disposition == Disposition::kIgnored;
    if (!accepted) {
      return Refusal(prefix + key,
                     "'" + prefix + key + "' is not supported by specfuse: " + rule->advice,
                     "unsupported_parameter");
    }
  }
  return std::nullopt;
}

constexpr std::string_view kExtension = "specfuse.";

// A JSON value as the option table reads it; anything it cannot be is std::monostate,
// which the table refuses by the option's kind. Only an array's own items are looked at.
OptionValue JsonValue(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_array()) return std::monostate{};
  std::vector<std::string> strings;
  for (const auto& item : v) {
    if (!item.is_string()) return std::monostate{};
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

// obj[key] (when present and not null) into the option, checked with a request's bounds;
// a bad value is a 400 naming param. OpenAI's clients send "" among the stop strings for
// none: a request's empty strings in a list are dropped, not refused.
std::optional<ApiError> ReadOption(const json& obj, std::string_view key, const std::string& param,
                                   const OptionSpec& spec, EnsembleOptions* options) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  OptionValue value = JsonValue(*it);
  if (KindOf(spec) == OptionKind::kStrings) {
    if (const std::string* one = std::get_if<std::string>(&value)) {
      value = std::vector<std::string>{*one};
    }
    if (auto* list = std::get_if<std::vector<std::string>>(&value)) {
      std::erase(*list, std::string());
    }
  }
  Status s = SetOption(spec, value, "'" + param + "'", OptionSource::kRequest, options);
  if (!s.ok()) return BadRequest(s.message(), param);
  return std::nullopt;
}

// The option whose request field is specfuse.<key>, or nullptr.
const OptionSpec* ExtensionOption(std::string_view key) {
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    std::string_view field = spec.request ? spec.request : "";
    if (field.starts_with(kExtension) && field.substr(kExtension.size()) == key) return &spec;
  }
  return nullptr;
}

// The `specfuse` extension object holds the option table's "specfuse." fields and trace.
std::optional<ApiError> CheckExtension(const json& ext) {
  if (!ext.is_object()) return BadRequest("'specfuse' must be an object", "specfuse");
  for (const auto& [key, value] : ext.items()) {
    if (key == "trace" || ExtensionOption(key)) continue;
    std::string known;
    for (const OptionSpec& spec : EnsembleOptionTable()) {
      std::string_view field = spec.request ? spec.request : "";
      if (field.starts_with(kExtension)) known += std::string(field.substr(kExtension.size())) + ", ";
    }
    return BadRequest("unknown field 'specfuse." + key + "'; known: " + known + "trace",
                      "specfuse." + key);
  }
  return std::nullopt;
}

// Every option of the table that a request may set: OpenAI's fields at the top level, the
// ensemble's in the `specfuse` object (ext; nullptr when absent). score_only: max_tokens
// is 0 and asks to score the prompt, which sets no option.
std::optional<ApiError> ReadOptionFields(const json& body, const json* ext, bool score_only,
                                         EnsembleOptions* options) {
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    if (spec.request == nullptr) continue;
    const std::string field = spec.request;
    std::optional<ApiError> e;
    if (field.starts_with(kExtension)) {
      if (ext) e = ReadOption(*ext, field.substr(kExtension.size()), field, spec, options);
    } else if (!(score_only && field == "max_tokens")) {
      e = ReadOption(body, field, field, spec, options);
    }
    if (e) return e;
  }
  // OpenAI's newer name for max_tokens, which wins over it.
  return ReadOption(body, "max_completion_tokens", "max_completion_tokens", *FindOption("max_tokens"),
                    options);
}

// Fields both endpoints share: model, stream, sampling, length, stop, n, the extension.
// zero_max_tokens_scores: "max_tokens": 0 asks to score the prompt (/v1/completions).
// Nothing here copies a part of the body: a copy of JSON nested half a million deep (a 1 MiB
// body of brackets) recurses once per level and overflows the request thread's stack.
std::optional<ApiError> ParseCommon(const json& body, const EnsembleOptions& defaults,
                                    bool zero_max_tokens_scores, GenerationRequest* out) {
  if (!body.is_object()) return BadRequest("the request body must be a JSON object");
  out->options = defaults;

  if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return BadRequest("'model' must be a string", "model");
    out->model = it->get<std::string>();
  }
  if (auto e = GetBool(body, "stream", "stream", &out->stream)) return e;
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return BadRequest("'stream_options' must be an object", "stream_options");
    if (auto e = CheckFields(*it, kStreamOptionsFields, "stream_options.", "stream_options")) {
      return e;
    }
    if (auto e = GetBool(*it, "include_usage", "stream_options.include_usage", &out->include_usage)) {
      return e;
    }
  }

  auto zero = body.find("max_tokens");
  out->score_only = zero_max_tokens_scores && zero != body.end() && zero->is_number_integer() &&
                    zero->get<int64_t>() == 0;
  std::optional<int> n;
  if (auto e = GetInt(body, "n", "n", 1, kMaxChoices, &n)) return e;
  if (n) out->n = *n;

  auto ext = body.find("specfuse");
  const bool has_ext = ext != body.end() && !ext->is_null();
  if (has_ext) {
    if (auto e = CheckExtension(*ext)) return e;
  }
  if (auto e = ReadOptionFields(body, has_ext ? &*ext : nullptr, out->score_only, &out->options)) {
    return e;
  }
  auto seed = body.find("seed");
  out->seeded = seed != body.end() && !seed->is_null();
  if (has_ext) {
    if (auto e = GetBool(*ext, "trace", "specfuse.trace", &out->trace)) return e;
  }
  if (out->n > 1 && out->stream) {
    return BadRequest("'n' above 1 is answered without streaming only; send n = 1 to stream, "
                      "or stream n requests", "n");
  }
  if (out->n > 1 && out->trace) {
    return BadRequest("'specfuse.trace' traces one answer; send n = 1 with it", "specfuse.trace");
  }
  if (auto e = ParseResponseFormat(body, &out->options.sampling.grammar)) return e;
  Status valid = Validate(out->options);
  if (!valid.ok()) return BadRequest(valid.message());
  return std::nullopt;
}

// One part of a message's content array: {"type": "text", "text": ...}; other types (images,
// audio, files, refusals) are refused by their type.
std::optional<ApiError> ContentPart(const json& part, const std::string& param,
                                    const std::string& part_param, std::string* out) {
  auto type = part.is_object() ? part.find("type") : part.end();
  if (type != part.end() && type->is_string() && *type != "text") {
    return BadRequest("'" + param + "' holds a part of type '" + type->get<std::string>() +
                          "', which specfuse does not read (its models take text only); "
                          "send only text parts ({\"type\": \"text\", \"text\": ...})",
                      param);
  }
  auto text = part.is_object() ? part.find("text") : part.end();
  if (type == part.end() || *type != "text" || text == part.end() || !text->is_string()) {
    return BadRequest(
        "'" + param + "' may only hold text parts ({\"type\": \"text\", \"text\": ...})", param);
  }
  if (auto e = CheckFields(part, kTextPartFields, part_param + ".", "a text part")) return e;
  *out += text->get<std::string>();
  return std::nullopt;
}

// A message's content: a string, or an array of text parts.
std::optional<ApiError> MessageContent(const json& content, const std::string& param,
                                       std::string* out) {
  if (content.is_null()) return std::nullopt;
  if (content.is_string()) {
    *out = content.get<std::string>();
    return std::nullopt;
  }
  if (!content.is_array()) {
    return BadRequest("'" + param + "' must be a string or an array of text parts", param);
  }
  for (size_t j = 0; j < content.size(); ++j) {
    std::string part_param = param + "[" + std::to_string(j) + "]";
    if (auto e = ContentPart(content[j], param, part_param, out)) return e;
  }
  return std::nullopt;
}

// The role of messages[i]: system (or developer), user, assistant or tool. Function
// results (the deprecated form of tool results) are refused by name.
std::optional<ApiError> MessageRole(const json& m, const std::string& param, std::string* out) {
  auto role = m.find("role");
  if (role == m.end() || role->is_null()) {
    return BadRequest("'" + param + ".role' is required", param + ".role");
  }
  if (!role->is_string()) {
    return BadRequest("'" + param + ".role' must be a string", param + ".role");
  }
  *out = role->get<std::string>();
  if (*out == "function") {
    return BadRequest("'" + param + ".role' is 'function', the deprecated form of tool results, "
                          "which specfuse does not take; send tool messages (role \"tool\", "
                          "tool_call_id) instead",
                      param + ".role");
  }
  if (*out == "developer") *out = "system";
  if (*out != "system" && *out != "user" && *out != "assistant" && *out != "tool") {
    return BadRequest("'" + param + ".role' must be system, developer, user, assistant or tool",
                      param + ".role");
  }
  return std::nullopt;
}

// The tool calls of earlier assistant messages, by id: the function each one called.
using CallNames = std::vector<std::pair<std::string, std::string>>;

// An assistant message's tool_calls, rendered after its content in the one text form of
// server/tool_calls.h.
std::optional<ApiError> AssistantToolCalls(const json& m, const std::string& param,
                                           CallNames* names, ChatMessage* out) {
  auto calls = m.find("tool_calls");
  if (calls == m.end() || calls->is_null()) return std::nullopt;
  if (out->role != "assistant") {
    return BadRequest("'" + param + ".tool_calls' belongs to assistant messages only",
                      param + ".tool_calls");
  }
  std::string text;
  if (auto e = AssistantCallsText(*calls, param + ".tool_calls", names, &text)) return e;
  if (!text.empty()) out->content += (out->content.empty() ? "" : "\n\n") + text;
  return std::nullopt;
}

// A tool message: its result, told to every member as a user message naming the call.
std::optional<ApiError> ToolResult(const json& m, const std::string& param, const CallNames& names,
                                   ChatMessage* out) {
  auto id = m.find("tool_call_id");
  if (out->role != "tool") {
    if (id == m.end() || id->is_null()) return std::nullopt;
    return BadRequest("'" + param + ".tool_call_id' belongs to tool messages only",
                      param + ".tool_call_id");
  }
  if (id == m.end() || !id->is_string()) {
    return BadRequest("'" + param + ".tool_call_id' is required: the id of the call it answers",
                      param + ".tool_call_id");
  }
  const std::string call = id->get<std::string>();
  auto named = std::find_if(names.begin(), names.end(), [&](const auto& n) { return n.first == call; });
  if (named == names.end()) {
    return BadRequest("'" + param + ".tool_call_id' is '" + call +
                          "', which no earlier assistant message's tool_calls holds",
                      param + ".tool_call_id");
  }
  out->role = "user";
  out->content = ToolResultText(named->second, call, out->content);
  return std::nullopt;
}

std::optional<ApiError> ParseMessage(const json& m, const std::string& param, CallNames* names,
                                     ChatMessage* out) {
  if (!m.is_object()) return BadRequest("'" + param + "' must be an object", param);
  if (auto e = MessageRole(m, param, &out->role)) return e;
  if (auto e = CheckFields(m, kMessageFields, param + ".", "a chat message")) return e;
  // An assistant message that made tool calls may leave content out, as OpenAI's do.
  auto content = m.find("content");
  if (content == m.end() && !m.contains("tool_calls")) {
    return BadRequest("'" + param + ".content' is required", param + ".content");
  }
  if (content != m.end()) {
    if (auto e = MessageContent(*content, param + ".content", &out->content)) return e;
  }
  if (auto e = AssistantToolCalls(m, param, names, out)) return e;
  return ToolResult(m, param, *names, out);
}

// messages, with the results of one round of tool calls (consecutive tool messages) told
// in one user message.
std::optional<ApiError> ParseMessages(const json& messages, std::vector<ChatMessage>* out,
                                      bool* made_calls) {
  CallNames names;
  bool after_tool = false;
  for (size_t i = 0; i < messages.size(); ++i) {
    ChatMessage msg;
    const json& m = messages[i];
    if (auto e = ParseMessage(m, "messages[" + std::to_string(i) + "]", &names, &msg)) return e;
    const bool tool = m.is_object() && m.value("role", json()) == "tool";
    if (tool && after_tool) out->back().content += "\n\n" + msg.content;
    else out->push_back(std::move(msg));
    after_tool = tool;
  }
  *made_calls = !names.empty();
  return std::nullopt;
}

// tools, tool_choice and parallel_tool_calls: the tools' system text before the messages
// and their grammar for the drafters. made_calls: earlier messages made tool calls.
std::optional<ApiError> ParseToolFields(const json& body, bool made_calls, GenerationRequest* out) {
  if (auto e = ParseTools(body, &out->tools)) return e;
  // Offered none (tool_choice "none"), or none now after earlier calls: a text answer,
  // which the models, seeing calls in the conversation, might otherwise write as a call.
  out->tools.text_only = !out->tools.offered() && (!out->tools.tools.empty() || made_calls);
  if (!out->tools.offered()) return std::nullopt;
  if (!out->options.sampling.grammar.empty()) {
    return BadRequest("'tools' and 'response_format' cannot be combined: an answer is a tool call "
                      "or JSON of the response format; send one of them, or tool_choice \"none\"",
                      "tools");
  }
  if (auto e = ToolGrammar(out->tools, &out->options.sampling.grammar)) return e;
  OfferTools(out->tools, &out->messages);
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseChatRequest(const json& body, const EnsembleOptions& defaults,
                                         GenerationRequest* out) {
  if (auto e = ParseCommon(body, defaults, /*zero_max_tokens_scores=*/false, out)) return e;
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return BadRequest("'messages' is required", "messages");
  if (!it->is_array() || it->empty()) {
    return BadRequest("'messages' must be a non-empty array of messages", "messages");
  }
  bool made_calls = false;
  if (auto e = ParseMessages(*it, &out->messages, &made_calls)) return e;
  if (auto e = CheckFields(body, kChatFields, "", "the chat completion request")) return e;
  return ParseToolFields(body, made_calls, out);
}

std::optional<ApiError> ParseCompletionRequest(const json& body, const EnsembleOptions& defaults,
                                               GenerationRequest* out) {
  // max_tokens 0 with echo asks only for the prompt's log-probabilities (vLLM scoring).
  if (auto e = ParseCommon(body, defaults, /*zero_max_tokens_scores=*/true, out)) return e;
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return BadRequest("'prompt' is required", "prompt");
  if (it->is_array() && it->size() == 1 && (*it)[0].is_string()) {
    out->prompt = (*it)[0].get<std::string>();
  } else if (it->is_string()) {
    out->prompt = it->get<std::string>();
  } else {
    return BadRequest("'prompt' must be a string (or an array of one string)", "prompt");
  }
  if (out->prompt.empty()) return BadRequest("'prompt' must not be empty", "prompt");
  if (auto e = GetBool(body, "echo", "echo", &out->echo)) return e;
  std::optional<int> logprobs;
  if (auto lp = body.find("logprobs"); lp != body.end() && lp->is_boolean()) {
    if (lp->get<bool>()) logprobs = 0;
  } else if (auto e = GetInt(body, "logprobs", "logprobs", 0, 20, &logprobs)) {
    return e;
  }
  out->logprobs = logprobs ? *logprobs : -1;
  if (out->score_only && !out->echo) {
    return BadRequest("'max_tokens' must be at least 1 (0 is allowed only with echo, to score the prompt)",
                      "max_tokens");
  }
  if (out->score_only && out->n > 1) {
    return BadRequest("'n' must be 1 when scoring the prompt (max_tokens 0 with echo)", "n");
  }
  if (out->score_only && !out->options.sampling.grammar.empty()) {
    return BadRequest("'response_format' constrains generated text, and scoring the prompt "
                      "(max_tokens 0) generates none; remove one of them",
                      "response_format");
  }
  if (out->logprobs >= 0 && out->stream) {
    return BadRequest("'logprobs' is supported without streaming only", "logprobs");
  }
  return CheckFields(body, kCompletionFields, "", "the completion request");
}

}  // namespace specfuse::server
