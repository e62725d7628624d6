#include "backends/openai/openai_model.h"

#include <llama.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "backends/openai/openai_sequence.h"

namespace specfuse {
namespace openai {

namespace {

using nlohmann::json;

Status Malformed(const std::string& member, const std::string& what, const std::string& why) {
  return Status::Error(ErrorCode::kUnavailable,
                       "member '" + member + "': " + what + " got an answer it cannot read: " + why);
}

// choices[] of a completion answer, ordered by their "index".
Result<std::vector<json>> Choices(const json& response, size_t expected, const std::string& member,
                                  const std::string& what) {
  auto it = response.find("choices");
  if (it == response.end() || !it->is_array() || it->size() != expected) {
    return Malformed(member, what, "expected " + std::to_string(expected) + " choice(s)");
  }
  std::vector<json> out(expected);
  std::vector<bool> seen(expected, false);
  for (size_t k = 0; k < expected; ++k) {
    const json& c = (*it)[k];
    if (!c.is_object()) return Malformed(member, what, "a choice is not an object");
    size_t index = k;
    if (auto i = c.find("index"); i != c.end() && i->is_number_integer() && i->get<int64_t>() >= 0) {
      index = i->get<size_t>();
    }
    if (index >= expected || seen[index]) return Malformed(member, what, "choice indexes are wrong");
    seen[index] = true;
    out[index] = c;
  }
  return out;
}

}  // namespace

int EstimateTokens(size_t bytes) { return static_cast<int>((bytes + 3) / 4); }

namespace {

// UTF-8 code points in s (continuation bytes are not counted).
size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte index in s of the code point numbered `chars` (s.size() past the end).
size_t ByteOfChar(const std::string& s, size_t chars) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == chars) return i;
      ++seen;
    }
  }
  return s.size();
}

}  // namespace

Result<std::vector<TokenInfo>> EchoTail(const json& choice, const std::string& prompt,
                                        size_t tail_bytes) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) {
    return Status::Error(ErrorCode::kUnavailable,
                         "the answer has no logprobs; the server must support echo with logprobs");
  }
  auto tokens = lp->find("tokens");
  auto logprobs = lp->find("token_logprobs");
  if (tokens == lp->end() || logprobs == lp->end() || !tokens->is_array() || !logprobs->is_array() ||
      tokens->size() != logprobs->size() || tokens->empty()) {
    return Status::Error(ErrorCode::kUnavailable, "logprobs.tokens and token_logprobs do not match");
  }
  const size_t n = tokens->size();
  std::vector<std::string> pieces(n);
  for (size_t k = 0; k < n; ++k) {
    if (!(*tokens)[k].is_string()) return Status::Error(ErrorCode::kUnavailable, "a token is not a string");
    pieces[k] = (*tokens)[k].get<std::string>();
  }
  // Where each token starts, in the server's unit. Servers differ: vLLM counts the
  // characters of its token strings, specfuse serve counts bytes but gives control tokens
  // no text, and token strings of partial UTF-8 characters come back as U+FFFD. So take
  // text_offset when it is there, find the unit from where the last token ends, and cut
  // the token texts from the prompt itself rather than trusting the strings.
  std::vector<size_t> start(n);
  bool have_offsets = false;
  if (auto o = lp->find("text_offset"); o != lp->end() && o->is_array() && o->size() == n) {
    have_offsets = true;
    for (size_t k = 0; k < n && have_offsets; ++k) {
      const json& v = (*o)[k];
      have_offsets = v.is_number_integer() && v.get<int64_t>() >= 0 &&
                     (k == 0 || v.get<size_t>() >= start[k - 1]);
      if (have_offsets) start[k] = v.get<size_t>();
    }
  }
  if (!have_offsets) {
    size_t at = 0;
    for (size_t k = 0; k < n; ++k) {
      start[k] = at;
      at += pieces[k].size();
    }
  }
  bool chars = have_offsets && start[n - 1] + pieces[n - 1].size() != prompt.size() &&
               start[n - 1] + Chars(pieces[n - 1]) == Chars(prompt);
  auto unit_len = [&](const std::string& s) { return chars ? Chars(s) : s.size(); };
  // Tokens generated after the echoed prompt (a server that ignores max_tokens 0) go.
  size_t end = start[n - 1] + unit_len(pieces[n - 1]);
  size_t count = n;
  if (auto t = choice.find("text"); t != choice.end() && t->is_string()) {
    const std::string& text = t->get_ref<const std::string&>();
    if (text.size() > prompt.size() && text.compare(0, prompt.size(), prompt) == 0) {
      size_t extra = unit_len(text.substr(prompt.size()));
      end = end >= extra ? end - extra : 0;
      while (count > 0 && start[count - 1] >= end) --count;
    }
  }
  const std::string tail = prompt.substr(prompt.size() - std::min(tail_bytes, prompt.size()));
  const size_t tail_units = unit_len(tail);
  const size_t region = end >= tail_units ? end - tail_units : 0;
  auto to_byte = [&](size_t units) { return chars ? ByteOfChar(tail, units) : std::min(units, tail.size()); };

  std::vector<TokenInfo> out;
  size_t stop = end;  // where the token after this one starts
  for (size_t k = count; k-- > 0;) {
    const json& v = (*logprobs)[k];
    if (!v.is_number()) break;  // the text's first token has no log-probability
    bool straddles = start[k] < region;
    if (straddles && !out.empty()) break;
    size_t from = to_byte(straddles ? 0 : start[k] - region);
    size_t to = to_byte(stop - region);
    float logprob = v.get<float>();
    out.push_back({-1, tail.substr(from, to - from), logprob, logprob});
    stop = start[k];
    if (straddles || start[k] == region) break;
  }
  if (out.empty()) {
    return Status::Error(ErrorCode::kUnavailable, "no scored token covers the scored text");
  }
  std::reverse(out.begin(), out.end());
  return out;
}

OpenAIModel::OpenAIModel(OpenAIModelOptions options, std::unique_ptr<HttpEndpoint> endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

Result<std::string> OpenAIModel::RenderChat(const std::vector<ChatMessage>& messages) const {
  if (options_.chat_template.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + name() + "' is remote and has no chat template: set "
                         "chat_template in its [[member]] to the llama.cpp template name of its "
                         "model (chatml for SmolLM2 and Qwen, gemma, llama3, ...)");
  }
  std::vector<llama_chat_message> chat;
  size_t total = 0;
  for (const auto& m : messages) {
    chat.push_back({m.role.c_str(), m.content.c_str()});
    total += m.role.size() + m.content.size();
  }
  std::vector<char> buf(2 * total + 1024);
  const char* tmpl = options_.chat_template.c_str();
  int n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), true, buf.data(),
                                    static_cast<int32_t>(buf.size()));
  if (n > static_cast<int>(buf.size())) {
    buf.resize(n + 1);
    n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), true, buf.data(),
                                  static_cast<int32_t>(buf.size()));
  }
  if (n < 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + name() + "': chat_template '" + options_.chat_template +
                             "' is not a template llama.cpp knows; use a name such as chatml, "
                             "gemma, llama3, mistral-v7, phi3");
  }
  return std::string(buf.data(), n);
}

Result<std::unique_ptr<Sequence>> OpenAIModel::Start(const std::vector<ChatMessage>& messages,
                                                     const SamplingOptions& sampling) {
  if (messages.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument, "a query needs at least one message");
  }
  auto prompt = RenderChat(messages);
  if (!prompt.ok()) return prompt.status();
  return StartText(*prompt, sampling);
}

Result<std::unique_ptr<Sequence>> OpenAIModel::StartText(const std::string& prompt,
                                                         const SamplingOptions& sampling) {
  if (prompt.empty()) return Status::Error(ErrorCode::kInvalidArgument, "the prompt is empty");
  if (!sampling.grammar.empty()) {
    // Its server would constrain a completion from its own start, not resume a grammar
    // half-way through an answer that other members wrote: it can verify, not draft.
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + name() + "' is remote and cannot draft under a grammar "
                         "(response_format); make it a verifier (role = \"verifier\")");
  }
  if (EstimateTokens(prompt.size()) >= options_.context_size) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "the prompt is about " + std::to_string(EstimateTokens(prompt.size())) +
                             " tokens for member '" + name() + "', which holds " +
                             std::to_string(options_.context_size) +
                             "; shorten the prompt or raise context_size");
  }
  return std::unique_ptr<Sequence>(
      std::make_unique<OpenAISequence>(shared_from_this(), prompt, sampling));
}

Result<json> OpenAIModel::Complete(json body, const std::string& what) {
  body["model"] = options_.remote_model;
  return endpoint_->Post("/v1/completions", body, what);
}

Result<std::vector<std::vector<TokenInfo>>> OpenAIModel::ScoreTails(
    const std::vector<std::string>& prompts, const std::vector<size_t>& tail_bytes) {
  const size_t n = prompts.size();
  std::vector<std::vector<TokenInfo>> out(n);
  auto read = [&](const json& choice, size_t k) -> Status {
    auto tail = EchoTail(choice, prompts[k], tail_bytes[k]);
    if (!tail.ok()) return Malformed(name(), "scoring", tail.status().message());
    out[k] = std::move(tail).value();
    return Status::Ok();
  };
  if (options_.batch_scoring && n > 1) {
    json body = {{"prompt", prompts}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 0}};
    auto response = Complete(std::move(body), "scoring");
    if (!response.ok()) return response.status();
    auto choices = Choices(*response, n, name(), "scoring");
    if (!choices.ok()) return choices.status();
    for (size_t k = 0; k < n; ++k) {
      Status s = read((*choices)[k], k);
      if (!s.ok()) return s;
    }
    return out;
  }
  std::vector<Status> status(n);
  auto one = [&](size_t k) {
    json body = {{"prompt", prompts[k]}, {"max_tokens", 0}, {"echo", true}, {"logprobs", 0}};
    auto response = Complete(std::move(body), "scoring");
    if (!response.ok()) {
      status[k] = response.status();
      return;
    }
    auto choices = Choices(*response, 1, name(), "scoring");
    status[k] = choices.ok() ? read((*choices)[0], k) : choices.status();
  };
  if (n == 1) {
    one(0);
  } else {
    std::vector<std::thread> threads;
    for (size_t k = 0; k < n; ++k) threads.emplace_back(one, k);
    for (auto& t : threads) t.join();
  }
  for (const auto& s : status) {
    if (!s.ok()) return s;
  }
  return out;
}

Result<TextScore> OpenAIModel::ScoreText(const std::string& text, int top_n) {
  if (top_n < 0 || top_n > 20) {
    return Status::Error(ErrorCode::kInvalidArgument, "logprobs must be between 0 and 20");
  }
  json body = {{"prompt", text}, {"max_tokens", 0}, {"echo", true}, {"logprobs", top_n}};
  auto response = Complete(std::move(body), "scoring a text");
  if (!response.ok()) return response.status();
  auto choices = Choices(*response, 1, name(), "scoring a text");
  if (!choices.ok()) return choices.status();
  const json& lp = (*choices)[0].value("logprobs", json());
  if (!lp.is_object() || !lp.value("tokens", json()).is_array() ||
      !lp.value("token_logprobs", json()).is_array() || !lp.value("text_offset", json()).is_array()) {
    return Malformed(name(), "scoring a text", "no logprobs with tokens and text_offset");
  }
  const json& tokens = lp["tokens"];
  const json& logprobs = lp["token_logprobs"];
  const json& offsets = lp["text_offset"];
  const json top = lp.value("top_logprobs", json::array());
  if (logprobs.size() != tokens.size() || offsets.size() != tokens.size()) {
    return Malformed(name(), "scoring a text", "logprobs arrays of different lengths");
  }
  TextScore out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].is_string() || !offsets[i].is_number_integer() || offsets[i].get<int64_t>() < 0) {
      return Malformed(name(), "scoring a text", "a token or offset of the wrong type");
    }
    float v = logprobs[i].is_number() ? logprobs[i].get<float>() : NAN;
    out.tokens.push_back({-1, tokens[i].get<std::string>(), v, v});
    out.offsets.push_back(offsets[i].get<size_t>());
    std::vector<std::pair<std::string, float>> alternatives;
    if (i < top.size() && top[i].is_object()) {
      for (const auto& [piece, p] : top[i].items()) {
        if (p.is_number()) alternatives.push_back({piece, p.get<float>()});
      }
      std::sort(alternatives.begin(), alternatives.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
    }
    out.top.push_back(std::move(alternatives));
  }
  return out;
}

}  // namespace openai

Result<std::shared_ptr<Model>> ConnectOpenAIModel(const OpenAIModelOptions& options_in) {
  OpenAIModelOptions options = options_in;
  std::string label = !options.name.empty() ? options.name
                      : !options.remote_model.empty() ? options.remote_model
                                                      : options.url;
  if (options.url.empty()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "remote member '" + label + "' has no url; set url = \"http://host:port\"");
  }
  if (options.context_size < 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "member '" + label + "': context_size must be 0 (ask the server) or more");
  }
  openai::EndpointOptions e;
  e.url = options.url;
  e.api_key = options.api_key;
  e.member = label;
  e.timeout_s = options.timeout_s;
  e.retries = options.retries;
  auto endpoint = openai::HttpEndpoint::Create(e);
  if (!endpoint.ok()) return endpoint.status();

  auto listed = (*endpoint)->Get("/v1/models", "listing models (GET /v1/models)");
  if (!listed.ok()) return listed.status();
  const nlohmann::json& data = listed->value("data", nlohmann::json());
  std::vector<std::string> ids;
  const nlohmann::json* entry = nullptr;
  if (data.is_array()) {
    for (const auto& m : data) {
      if (!m.is_object() || !m.value("id", nlohmann::json()).is_string()) continue;
      ids.push_back(m["id"].get<std::string>());
      if (entry == nullptr && (options.remote_model.empty() || ids.back() == options.remote_model)) {
        entry = &m;
      }
    }
  }
  if (ids.empty()) {
    return Status::Error(ErrorCode::kUnavailable,
                         "member '" + label + "' (" + options.url +
                             "): GET /v1/models did not list any model; is this an "
                             "OpenAI-compatible server?");
  }
  if (entry == nullptr) {
    std::string list;
    for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
    return Status::Error(ErrorCode::kNotFound, "member '" + label + "': the server at " + options.url +
                                                   " does not serve '" + options.remote_model +
                                                   "'; it serves: " + list);
  }
  if (options.remote_model.empty()) options.remote_model = (*entry)["id"].get<std::string>();
  if (options.name.empty()) options.name = options.remote_model;
  if (options.context_size == 0) {
    auto len = entry->find("max_model_len");  // vLLM and SGLang report it
    options.context_size = len != entry->end() && len->is_number_integer() && len->get<int>() > 0
                               ? len->get<int>()
                               : 4096;
  }
  openai::EndpointOptions named = (*endpoint)->options();
  named.member = options.name;
  auto final_endpoint = openai::HttpEndpoint::Create(named);
  if (!final_endpoint.ok()) return final_endpoint.status();
  return std::shared_ptr<Model>(
      std::make_shared<openai::OpenAIModel>(options, std::move(final_endpoint).value()));
}

}  // namespace specfuse
