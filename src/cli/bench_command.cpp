#include "cli/bench_command.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "specfuse/engine.h"

namespace specfuse::cli {

namespace {

const char* kBuiltinPrompts[] = {
    "Name three colors.",
    "What is the capital of France?",
    "Write a haiku about autumn.",
    "Explain photosynthesis in one sentence.",
};

// Totals of one configuration over all prompts.
struct Totals {
  std::string label;
  int queries = 0;
  int rounds = 0;
  int model_calls = 0;
  int calls_saved = 0;
  int output_tokens = 0;
  double wall_ms = 0, first_segment_ms = 0;
  double draft_ms = 0, verify_ms = 0, accept_ms = 0;

  double MsPerToken() const { return output_tokens > 0 ? wall_ms / output_tokens : 0; }
  double TokensPerSecond() const { return wall_ms > 0 ? output_tokens * 1000.0 / wall_ms : 0; }
  double VerifyShare() const {
    double round = draft_ms + verify_ms + accept_ms;
    return round > 0 ? verify_ms / round : 0;
  }
  nlohmann::json ToJson() const {
    return {{"label", label},
            {"queries", queries},
            {"rounds", rounds},
            {"model_calls", model_calls},
            {"calls_saved_by_exit", calls_saved},
            {"output_tokens", output_tokens},
            {"wall_ms_per_query", queries ? wall_ms / queries : 0},
            {"first_segment_ms", queries ? first_segment_ms / queries : 0},
            {"tokens_per_s", TokensPerSecond()},
            {"ms_per_token", MsPerToken()},
            {"draft_ms", draft_ms},
            {"verify_ms", verify_ms},
            {"accept_ms", accept_ms},
            {"verify_share", VerifyShare()}};
  }
};

Result<Totals> Measure(const std::string& label, const std::vector<Member>& members,
                       const EnsembleOptions& options, const std::vector<std::string>& prompts) {
  Totals t;
  t.label = label;
  for (const auto& p : prompts) {
    Conversation c(members, options);
    auto a = c.Ask(p);
    if (!a.ok()) return a.status();
    const AnswerSummary& s = a->summary;
    t.queries += 1;
    t.rounds += s.rounds;
    t.model_calls += s.model_calls;
    t.calls_saved += s.calls_saved_by_exit;
    t.output_tokens += s.output_tokens;
    t.wall_ms += s.wall_ms;
    t.first_segment_ms += s.first_segment_ms;
    for (const auto& r : a->rounds) {
      t.draft_ms += r.draft_ms;
      t.verify_ms += r.verify_ms;
      t.accept_ms += r.accept_ms;
    }
    std::fprintf(stderr, "  %-28s %3d tokens %7.0f ms  %s\n", label.c_str(), s.output_tokens,
                 s.wall_ms, p.substr(0, 40).c_str());
  }
  return t;
}

}  // namespace

int BenchCommand(const EnsembleFlags& flags, const BenchFlags& bench) {
  SetLlamaVerbose(flags.verbose);
  auto config = ResolveEnsemble(flags);
  if (!config.ok()) {
    std::fprintf(stderr, "specfuse: error: %s\n", config.status().message().c_str());
    return 1;
  }
  std::vector<std::string> prompts;
  if (bench.prompts.empty()) {
    prompts.assign(std::begin(kBuiltinPrompts), std::end(kBuiltinPrompts));
  } else {
    std::ifstream in(bench.prompts);
    if (!in) {
      std::fprintf(stderr, "specfuse: error: cannot read prompts file '%s'\n", bench.prompts.c_str());
      return 1;
    }
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) prompts.push_back(line);
    }
    if (prompts.empty()) {
      std::fprintf(stderr, "specfuse: error: '%s' holds no prompts\n", bench.prompts.c_str());
      return 1;
    }
  }
  auto members = LoadMembers(*config);
  if (!members.ok()) {
    std::fprintf(stderr, "specfuse: error: %s\n", members.status().message().c_str());
    return 1;
  }

  std::vector<Totals> alone;
  std::vector<Totals> ensemble;
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "specfuse: error: %s\n", s.message().c_str());
    return 1;
  };
  if (bench.members_alone) {
    for (const auto& m : *members) {
      if (m.role == MemberRole::kVerifier) continue;
      auto t = Measure(m.model->name() + " alone", {m}, config->options, prompts);
      if (!t.ok()) return fail(t.status());
      alone.push_back(*t);
    }
  }
  for (bool exit_on : {false, true}) {
    EnsembleOptions o = config->options;
    o.exit.enabled = exit_on;
    auto t = Measure(exit_on ? "ensemble, exit on" : "ensemble, exit off", *members, o, prompts);
    if (!t.ok()) return fail(t.status());
    ensemble.push_back(*t);
  }

  const Totals* slowest = nullptr;
  for (const auto& t : alone) {
    if (!slowest || t.MsPerToken() > slowest->MsPerToken()) slowest = &t;
  }
  const Totals& off = ensemble[0];
  const Totals& on = ensemble[1];
  double vs_slowest = slowest && slowest->MsPerToken() > 0 ? off.MsPerToken() / slowest->MsPerToken() : 0;
  double vs_slowest_on = slowest && slowest->MsPerToken() > 0 ? on.MsPerToken() / slowest->MsPerToken() : 0;
  double saved = on.model_calls + on.calls_saved > 0
                     ? static_cast<double>(on.calls_saved) / (on.model_calls + on.calls_saved)
                     : 0;
  double calls_ratio = off.model_calls > 0 ? static_cast<double>(on.model_calls) / off.model_calls : 0;

  if (bench.json) {
    nlohmann::json j;
    j["prompts"] = prompts.size();
    j["configurations"] = nlohmann::json::array();
    for (const auto& t : alone) j["configurations"].push_back(t.ToJson());
    for (const auto& t : ensemble) j["configurations"].push_back(t.ToJson());
    j["ratios"] = {{"ensemble_ms_per_token_vs_slowest_member", vs_slowest},
                   {"ensemble_exit_on_ms_per_token_vs_slowest_member", vs_slowest_on},
                   {"verify_share_exit_off", off.VerifyShare()},
                   {"calls_saved_share_exit_on", saved},
                   {"model_calls_exit_on_vs_off", calls_ratio}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("\n%zu prompts, segment_tokens %d, max_tokens %d\n\n", prompts.size(),
              config->options.segment_tokens, config->options.max_tokens);
  std::printf("| configuration | wall ms/query | first segment ms | tokens/s | ms/token | rounds | "
              "model calls | saved by exit | draft %% | verify %% | broadcast %% |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  auto row = [](const Totals& t) {
    double round = std::max(1e-9, t.draft_ms + t.verify_ms + t.accept_ms);
    std::printf("| %s | %.0f | %.0f | %.1f | %.1f | %d | %d | %d | %.0f | %.0f | %.0f |\n",
                t.label.c_str(), t.wall_ms / t.queries, t.first_segment_ms / t.queries,
                t.TokensPerSecond(), t.MsPerToken(), t.rounds, t.model_calls, t.calls_saved,
                100 * t.draft_ms / round, 100 * t.verify_ms / round, 100 * t.accept_ms / round);
  };
  for (const auto& t : alone) row(t);
  for (const auto& t : ensemble) row(t);
  std::printf("\nensemble (exit off) time per output token / slowest member alone: %.2fx\n", vs_slowest);
  std::printf("ensemble (exit on)  time per output token / slowest member alone: %.2fx\n", vs_slowest_on);
  std::printf("verification share of round time (exit off): %.0f%%\n", 100 * off.VerifyShare());
  std::printf("model calls saved by exit: %.0f%% (calls exit on / off: %.2f)\n", 100 * saved, calls_ratio);
  return 0;
}

}  // namespace specfuse::cli
