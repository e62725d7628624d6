#include "backends/openai/openai_sequence.h"

#include <cmath>

namespace specfuse::openai {

namespace {

using nlohmann::json;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

enum class OwnLogprobs {
  kUsable,     // they spell the draft's text exactly
  kThisDraft,  // not this time (a token of a partial UTF-8 character)
  kCut,        // leading tokens are missing: this server's are not worth asking for
};

// The draft's tokens from a completion's own logprobs, when they spell its text exactly.
OwnLogprobs TokensFromLogprobs(const json& choice, const std::string& text, std::vector<TokenInfo>* out) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) return OwnLogprobs::kCut;
  auto tokens = lp->find("tokens");
  auto logprobs = lp->find("token_logprobs");
  if (tokens == lp->end() || logprobs == lp->end() || !tokens->is_array() || !logprobs->is_array() ||
      tokens->size() != logprobs->size()) {
    return OwnLogprobs::kCut;
  }
  std::string spelled;
  out->clear();
  for (size_t k = 0; k < tokens->size(); ++k) {
    if (!(*tokens)[k].is_string() || !(*logprobs)[k].is_number()) return OwnLogprobs::kThisDraft;
    float v = (*logprobs)[k].get<float>();
    out->push_back({-1, (*tokens)[k].get<std::string>(), v, v});
    spelled += out->back().piece;
  }
  if (spelled == text) return OwnLogprobs::kUsable;
  out->clear();
  bool suffix = spelled.size() < text.size() &&
                text.compare(text.size() - spelled.size(), spelled.size(), spelled) == 0;
  return suffix ? OwnLogprobs::kCut : OwnLogprobs::kThisDraft;
}

}  // namespace

OpenAISequence::OpenAISequence(std::shared_ptr<OpenAIModel> model, std::string prompt,
                               const SamplingOptions& sampling)
    : model_(std::move(model)), sampling_(sampling), context_(std::move(prompt)) {}

int OpenAISequence::ContextTokens() const { return EstimateTokens(context_.size()); }
int OpenAISequence::ContextLimit() const { return model_->options().context_size; }
int OpenAISequence::CountTokens(const std::string& text) const { return EstimateTokens(text.size()); }

Result<Draft> OpenAISequence::DraftTokens(int max_tokens) {
  Draft draft;
  if (max_tokens <= 0) return draft;
  // 31 bits: every server takes that as a seed (llama-server's is 32-bit, torch's signed).
  uint64_t seed = SplitMix64(sampling_.seed ^ SplitMix64(++drafts_)) & 0x7fffffffull;
  bool want_logprobs = model_->draft_logprobs_usable();
  json body = {{"prompt", context_},
               {"max_tokens", max_tokens},
               {"temperature", std::max(0.0f, sampling_.temperature)},
               {"top_p", sampling_.top_p},
               {"seed", seed},
               // specfuse servers generate the whole draft in one round; others ignore it.
               {"specfuse", {{"segment_tokens", max_tokens}}}};
  if (sampling_.top_k > 0) body["top_k"] = sampling_.top_k;
  if (want_logprobs) body["logprobs"] = 0;
  auto response = model_->Complete(std::move(body), "drafting");
  if (!response.ok()) return response.status();
  auto choices = response->find("choices");
  if (choices == response->end() || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object() || !(*choices)[0].value("text", json()).is_string()) {
    return Status::Error(ErrorCode::kUnavailable,
                         "member '" + model_->name() + "': drafting got an answer without "
                         "choices[0].text");
  }
  const json& choice = (*choices)[0];
  std::string text = choice["text"].get<std::string>();
  const json& finish = choice.value("finish_reason", json());
  draft.end_of_generation = finish.is_string() && finish.get<std::string>() == "stop";
  if (text.empty()) return draft;
  if (want_logprobs) {
    OwnLogprobs own = TokensFromLogprobs(choice, text, &draft.tokens);
    if (own == OwnLogprobs::kUsable) return draft;
    if (own == OwnLogprobs::kCut) model_->set_draft_logprobs_unusable();
  }
  // Score the drafted text as a continuation, as a verifier would. EchoTail cuts the
  // token texts from the draft itself, so they spell it exactly.
  auto scored = model_->ScoreTails({context_ + text}, {text.size()});
  if (!scored.ok()) return scored.status();
  draft.tokens = std::move((*scored)[0]);
  return draft;
}

Result<std::vector<CandidateScore>> OpenAISequence::Score(const std::vector<std::string>& candidates) {
  std::vector<std::string> prompts;
  std::vector<size_t> tails;
  for (const auto& c : candidates) {
    prompts.push_back(context_ + c);
    tails.push_back(c.size());
  }
  auto scored = model_->ScoreTails(prompts, tails);
  if (!scored.ok()) return scored.status();
  std::vector<CandidateScore> out(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) {
    for (const auto& t : (*scored)[k]) {
      out[k].logprobs.push_back(t.logprob);
      out[k].logits.push_back(t.logit);
    }
    out[k].eog_logprob = -INFINITY;  // the API does not say
  }
  return out;
}

Status OpenAISequence::Accept(const std::string& text) {
  if (EstimateTokens(context_.size() + text.size()) > ContextLimit()) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "member '" + model_->name() + "': the answer no longer fits its context of " +
                             std::to_string(ContextLimit()) + " tokens (estimated)");
  }
  context_ += text;
  return Status::Ok();
}

Status OpenAISequence::Sync(const std::vector<ChatMessage>& messages) {
  auto prompt = model_->RenderChat(messages);
  if (!prompt.ok()) return prompt.status();
  if (EstimateTokens(prompt->size()) >= ContextLimit()) {
    return Status::Error(ErrorCode::kContextOverflow,
                         "the conversation is about " + std::to_string(EstimateTokens(prompt->size())) +
                             " tokens for member '" + model_->name() + "', which holds " +
                             std::to_string(ContextLimit()) + "; start a new one");
  }
  context_ = std::move(*prompt);
  return Status::Ok();
}

}  // namespace specfuse::openai
