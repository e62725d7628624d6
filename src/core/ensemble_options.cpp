#include "specfuse/ensemble_options.h"

namespace specfuse {

Result<ScoreVariant> ParseScoreVariant(const std::string& name) {
  if (name == "prob") return ScoreVariant::kProb;
  if (name == "logprob") return ScoreVariant::kLogprob;
  if (name == "logit") return ScoreVariant::kLogit;
  return Status::Error(ErrorCode::kInvalidArgument,
                       "unknown score variant '" + name + "'; use prob, logprob or logit");
}

Result<WeightsMode> ParseWeightsMode(const std::string& name) {
  if (name == "uniform") return WeightsMode::kUniform;
  if (name == "hedge") return WeightsMode::kHedge;
  return Status::Error(ErrorCode::kInvalidArgument,
                       "unknown weights mode '" + name + "'; use uniform or hedge");
}

const char* ScoreVariantName(ScoreVariant v) {
  switch (v) {
    case ScoreVariant::kProb: return "prob";
    case ScoreVariant::kLogprob: return "logprob";
    case ScoreVariant::kLogit: return "logit";
  }
  return "?";
}

const char* WeightsModeName(WeightsMode m) {
  return m == WeightsMode::kHedge ? "hedge" : "uniform";
}

Status Validate(const EnsembleOptions& o) {
  auto bad = [](const std::string& what) { return Status::Error(ErrorCode::kInvalidArgument, what); };
  if (o.segment_tokens < 1 || o.segment_tokens > 256) return bad("segment_tokens must be in 1..256");
  if (o.max_tokens < 1) return bad("max_tokens must be at least 1");
  if (o.sampling.temperature < 0) return bad("temperature must be >= 0");
  if (o.sampling.top_p <= 0 || o.sampling.top_p > 1) return bad("top_p must be in (0, 1]");
  if (o.sampling.top_k < 0) return bad("top_k must be >= 0");
  if (o.hedge_eta0 < 0) return bad("hedge_eta0 must be >= 0");
  if (!(o.size_prior >= 0 && o.size_prior <= 8)) return bad("size_prior must be between 0 and 8");
  if (!(o.anchor_margin < 0 || o.anchor_margin <= 100)) {
    return bad("anchor_margin must be at most 100 (a negative value turns the gate off)");
  }
  if (!(o.anchor_token_margin < 0 || o.anchor_token_margin <= 100)) {
    return bad("anchor_token_margin must be at most 100 (a negative value turns the gate off)");
  }
  if (o.exit.warmup_rounds < 0) return bad("exit warmup_rounds must be >= 0");
  if (o.exit.temperature <= 0) return bad("exit temperature must be > 0");
  if (o.exit.entropy_threshold < 0 || o.exit.entropy_threshold > 1) {
    return bad("exit entropy_threshold must be in [0, 1]");
  }
  if (o.exit.epsilon < 0) return bad("exit epsilon must be >= 0");
  if (o.exit.min_active < 1) return bad("exit min_active must be at least 1");
  for (const auto& s : o.stop) {
    if (s.empty()) return bad("a stop string must not be empty");
  }
  return Status::Ok();
}

}  // namespace specfuse
