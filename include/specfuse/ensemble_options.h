// Options of one ensemble query, with their defaults written once, here. Their names,
// ranges and help for the config file, CLI flags and request fields are in one table,
// specfuse/option_table.h, which also implements the functions below.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "specfuse/model.h"
#include "specfuse/status.h"

namespace specfuse {

// How a verifier turns its token log-probabilities into a candidate's score.
enum class ScoreVariant {
  kProb,     // mean token probability (the paper's definition)
  kLogprob,  // mean token log-probability
  kLogit,    // mean raw logit of the candidate's tokens (the authors' released code)
};

// How verifiers' normalized scores are weighted.
enum class WeightsMode {
  kUniform,  // every verifier counts the same
  kHedge,    // SpecEM's online multiplicative weights, reset per query
};

// Model exit (DESIGN §2.5): after warmup_rounds, p = softmax(Q / temperature) over the
// active drafters' cumulative quality Q; when the normalized entropy of p falls below
// entropy_threshold, drafters with p_i < epsilon / N_active exit, keeping min_active.
struct ExitOptions {
  bool enabled = true;
  int warmup_rounds = 3;
  double temperature = 0.5;
  double entropy_threshold = 0.75;
  double epsilon = 0.5;
  int min_active = 1;
};

struct EnsembleOptions {
  int segment_tokens = 10;  // L: tokens per draft
  int max_tokens = 256;     // answer length limit, in the winning drafters' tokens
  SamplingOptions sampling;
  // The default: mean logit scored best of the three on the evaluation set (docs/EVALUATION.md).
  ScoreVariant score = ScoreVariant::kLogit;
  WeightsMode weights = WeightsMode::kUniform;
  double hedge_eta0 = 1.0;  // eta_t = eta0 * sqrt(1/K) / t
  // Verifier weights start proportional to parameter_count^size_prior (0: uniform);
  // members with their own weight keep it.
  double size_prior = 0.0;
  // The anchor gate (core/anchor.h): a candidate wins only when the anchor verifier (the
  // largest explicit weight, else the largest model) scores it within this many nats of
  // mean token log-probability of its best one. < 0: no gate. The default, 0, scored best
  // on the GSM8K development split (docs/EVALUATION.md).
  double anchor_margin = 0.0;
  // The anchor's token gate: a candidate is eligible only when none of its tokens is more
  // than this many nats below the anchor's most likely token at that position. < 0: off.
  double anchor_token_margin = -1.0;
  ExitOptions exit;
  std::vector<std::string> stop;  // the answer ends before the first of these
};

// Parsing of the enum names used by flags, config files and requests.
Result<ScoreVariant> ParseScoreVariant(const std::string& name);  // prob|logprob|logit
Result<WeightsMode> ParseWeightsMode(const std::string& name);    // uniform|hedge
const char* ScoreVariantName(ScoreVariant v);
const char* WeightsModeName(WeightsMode m);
// Every name, indexed by the enum's value.
std::span<const char* const> ScoreVariantNames();
std::span<const char* const> WeightsModeNames();
// Checks every option against its row of the option table; says which option is wrong
// (by its config file name) and what is allowed.
Status Validate(const EnsembleOptions& options);

}  // namespace specfuse
