#include "specfuse/trace.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace specfuse {

namespace {

// JSON has no infinity; a candidate a verifier could not score shows as null.
nlohmann::json Number(double x) {
  if (!std::isfinite(x)) return nullptr;
  return std::round(x * 1e6) / 1e6;
}

nlohmann::json Numbers(const std::vector<double>& xs) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : xs) a.push_back(Number(x));
  return a;
}

}  // namespace

std::string RoundToJson(const RoundTrace& r) {
  nlohmann::json j;
  j["round"] = r.round;
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : r.candidates) {
    j["candidates"].push_back({{"model", c.models.empty() ? "" : c.models[0]},
                               {"models", c.models},
                               {"text", c.text},
                               {"tokens", c.tokens},
                               {"end_of_generation", c.end_of_generation}});
  }
  j["scores"] = nlohmann::json::array();
  for (const auto& s : r.scores) {
    j["scores"].push_back({{"verifier", s.verifier},
                           {"raw", Numbers(s.raw)},
                           {"normalized", Numbers(s.normalized)},
                           {"reused", s.reused},
                           {"mean_logprob", Numbers(s.mean_logprob)},
                           {"worst_gap", Numbers(s.worst_gap)}});
  }
  nlohmann::json w = nlohmann::json::object();
  for (const auto& [name, value] : r.weights) w[name] = Number(value);
  j["weights"] = w;
  j["combined"] = Numbers(r.combined);
  j["winner"] = r.winner;
  if (!r.anchor.empty()) {
    j["anchor"] = r.anchor;
    j["eligible"] = r.eligible;
  }
  j["winner_model"] = r.winner >= 0 && !r.candidates[r.winner].models.empty()
                          ? r.candidates[r.winner].models[0]
                          : "";
  j["active"] = r.active;
  j["exited"] = r.exited;
  j["failed"] = r.failed;
  j["exit_entropy"] = r.exit_entropy < 0 ? nlohmann::json(nullptr) : Number(r.exit_entropy);
  j["solo"] = r.solo;
  j["draft_ms"] = Number(r.draft_ms);
  j["verify_ms"] = Number(r.verify_ms);
  j["accept_ms"] = Number(r.accept_ms);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SummaryToJson(const AnswerSummary& s) {
  nlohmann::json j;
  j["rounds"] = s.rounds;
  j["model_calls"] = s.model_calls;
  j["calls_saved_by_exit"] = s.calls_saved_by_exit;
  j["output_tokens"] = s.output_tokens;
  j["prompt_tokens"] = s.prompt_tokens;
  j["wall_ms"] = Number(s.wall_ms);
  j["first_segment_ms"] = Number(s.first_segment_ms);
  j["finish_reason"] = s.finish_reason;
  j["rounds_won"] = s.rounds_won;
  return nlohmann::json{{"summary", j}}.dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
}

}  // namespace specfuse
