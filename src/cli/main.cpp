// specfuse: make several language models answer together (SpecFuse).
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/default_models.h"
#include "cli/eval_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"

namespace {

int ModelsCommand() {
  using specfuse::cli::DefaultModels;
  std::printf("cache: %s/models\n\n", specfuse::cli::CacheDir().c_str());
  std::printf("%-20s %9s  %-11s %-8s %s\n", "NAME", "SIZE", "LICENCE", "PRESENT", "DESCRIPTION");
  for (const auto& m : DefaultModels()) {
    std::printf("%-20s %6.0f MB  %-11s %-8s %s\n", m.name.c_str(), m.bytes / 1e6, m.license.c_str(),
                m.present ? "yes" : "no", m.description.c_str());
  }
  std::printf("\ndefault ensemble:");
  for (const auto& m : specfuse::cli::DefaultEnsemble()) std::printf(" %s", m.name.c_str());
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Several models share the CPU: OpenMP threads that spin after one model's step steal
  // the cores from the next model's step (docs/BENCHMARKS.md). The OpenMP runtime reads its
  // settings when it is loaded, before main, so the setting takes effect by starting
  // again with it. A user's own setting wins.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
  }
  CLI::App app{"specfuse: several language models answering together (SpecFuse)", "specfuse"};
  app.set_version_flag("--version", std::string("specfuse ") + SPECFUSE_VERSION);
  app.require_subcommand(1);

  app.add_subcommand("models", "List the default models and whether they are fetched");

  specfuse::cli::EnsembleFlags run_flags;
  std::string prompt, run_trace;
  CLI::App* run = app.add_subcommand("run", "Answer one prompt, streaming the answer to stdout");
  specfuse::cli::AddEnsembleFlags(run, &run_flags);
  run->add_option("--trace", run_trace, "Write the round trace as JSON lines to FILE (- = stderr)");
  run->add_option("prompt", prompt, "The prompt")->required();

  specfuse::cli::EnsembleFlags chat_flags;
  std::string chat_trace;
  CLI::App* chat = app.add_subcommand("chat", "Talk with the ensemble over several turns");
  specfuse::cli::AddEnsembleFlags(chat, &chat_flags);
  chat->add_option("--trace", chat_trace, "Write the round trace as JSON lines to FILE (- = stderr)");

  specfuse::cli::ServeFlags serve_flags;
  CLI::App* serve = app.add_subcommand("serve", "Serve the ensemble over an OpenAI-compatible HTTP API");
  specfuse::cli::AddServeFlags(serve, &serve_flags);

  specfuse::cli::EnsembleFlags bench_flags;
  specfuse::cli::BenchFlags bench_opts;
  CLI::App* bench = app.add_subcommand(
      "bench", "Time each member alone and the ensemble with exit off and on, on the same prompts");
  specfuse::cli::AddEnsembleFlags(bench, &bench_flags);
  bench->add_option("--prompts", bench_opts.prompts, "Prompts file, one per line (default: built-in set)");
  bench->add_flag("--json", bench_opts.json, "Print JSON instead of a table");
  bench->add_flag("!--no-members-alone", bench_opts.members_alone, "Skip timing each member alone");

  specfuse::cli::EnsembleFlags eval_flags;
  specfuse::cli::EvalFlags eval_opts;
  CLI::App* eval = app.add_subcommand(
      "eval", "Score each member alone, SpecFuse variants and best-of-n on evaluation items");
  specfuse::cli::AddEnsembleFlags(eval, &eval_flags);
  specfuse::cli::AddEvalFlags(eval, &eval_opts);

  CLI11_PARSE(app, argc, argv);

  if (app.got_subcommand("models")) return ModelsCommand();
  if (app.got_subcommand("run")) return specfuse::cli::RunCommand(run_flags, prompt, run_trace);
  if (app.got_subcommand("chat")) return specfuse::cli::ChatCommand(chat_flags, chat_trace);
  if (app.got_subcommand("bench")) return specfuse::cli::BenchCommand(bench_flags, bench_opts);
  if (app.got_subcommand("eval")) return specfuse::cli::EvalCommand(eval_flags, eval_opts);
  if (app.got_subcommand("serve")) return specfuse::cli::ServeCommand(serve_flags);
  return 0;
}
