#include "cli/eval_command.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "eval/dataset.h"
#include "eval/methods.h"
#include "eval/metrics.h"
#include "eval/results.h"

namespace specfuse::cli {

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "specfuse: error: %s\n", s.message().c_str());
  return 1;
}

// What a results line must agree on to be reused: the members and every option that
// changes an answer.
nlohmann::json Settings(const EnsembleConfig& config, const std::vector<Member>& members,
                        const std::string& system) {
  nlohmann::json j = eval::OptionSettings(config.options);
  for (size_t i = 0; i < members.size(); ++i) {
    j["members"].push_back({{"name", members[i].model->name()},
                            {"role", MemberRoleName(members[i].role)},
                            {"temperature", members[i].temperature},
                            {"weight", members[i].weight}});
  }
  if (!system.empty()) j["system"] = system;  // absent when unused, as files before it
  return j;
}

std::string Duration(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
  return buf;
}

// Items done / total, rate and ETA on stderr: one redrawn line on a terminal, else a
// line per step.
class Progress {
 public:
  explicit Progress(int total) : total_(total), tty_(isatty(STDERR_FILENO)), start_(Clock::now()) {}
  void Step(int done, const std::string& label) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done) / rate : 0;
    const int width = 24;
    const int filled = total_ > 0 ? width * done / total_ : width;
    std::string bar(filled, '#');
    bar.resize(width, '-');
    std::fprintf(stderr, "%s[%s] %d/%d  %.2f/s  ETA %s  %s%s", tty_ ? "\r\033[K" : "", bar.c_str(), done,
                 total_, rate, Duration(eta).c_str(), label.c_str(), tty_ ? "" : "\n");
    if (tty_ && done == total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  int total_;
  bool tty_;
  Clock::time_point start_;
};

// Scores every record of the results file whose item is among items again (the answers
// stay), and rewrites the file.
Status Rescore(const std::vector<eval::Item>& items, eval::ResultsFile* results) {
  using namespace specfuse::eval;
  std::map<std::string, const Item*> by_id;
  for (const auto& item : items) by_id[item.id] = &item;
  std::vector<nlohmann::json> records = results->records();
  int changed = 0, rescored = 0;
  for (auto& r : records) {
    auto it = by_id.find(r["id"].get<std::string>());
    if (it == by_id.end()) continue;
    auto score = ScoreResponse(*it->second, r["answer"].get<std::string>());
    if (!score.ok()) return Status::Error(score.status().code(), it->first + ": " + score.status().message());
    changed += r["score"].get<double>() != score->score ? 1 : 0;
    r["score"] = score->score;
    r["metrics"] = score->metrics;
    ++rescored;
  }
  std::fprintf(stderr, "rescored %d answers; %d scores changed\n", rescored, changed);
  return results->Replace(std::move(records));
}

// Answers every pending (item, method) pair, `jobs` items at a time: each worker takes the
// next item and runs all its methods with its own MethodRunner. The first error stops the
// others after their current method; what finished is kept in the results file.
Status RunItems(const std::vector<eval::Item>& items, const std::vector<eval::Method>& methods,
                const std::vector<Member>& members, const EnsembleConfig& config, const EvalFlags& flags,
                int pending, eval::ResultsFile* results) {
  using namespace specfuse::eval;
  std::mutex mu;  // guards results, progress, done and failure
  Progress progress(pending);
  int done = 0;
  Status failure = Status::Ok();
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  const nlohmann::json settings = Settings(config, members, flags.system);
  auto worker = [&] {
    MethodRunner runner(members, config.options, flags.system);
    runner.set_trace(flags.trace);
    for (size_t k; !stop && (k = next++) < items.size();) {
      const Item& item = items[k];
      for (const auto& m : methods) {
        if (stop) return;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (results->Done(m.name, item.id)) continue;
        }
        auto run = runner.Run(m, item);
        Result<ItemScore> score = run.ok() ? ScoreResponse(item, run->answer) : Result<ItemScore>(run.status());
        std::lock_guard<std::mutex> lock(mu);
        Status s = score.ok() ? results->Append(RecordJson(m, item, *run, *score, settings))
                              : Status::Error(score.status().code(),
                                              m.name + " on " + item.id + ": " + score.status().message());
        if (!s.ok()) {
          if (failure.ok()) failure = s;
          stop = true;
          return;
        }
        progress.Step(++done, m.name + " " + item.id);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::max(1, flags.jobs); ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return failure;
}

}  // namespace

void AddEvalFlags(CLI::App* app, EvalFlags* f) {
  app->add_option("--data", f->data, "Evaluation items, JSON lines (repeatable)")->required();
  app->add_option("--out", f->out, "Results file (JSON lines); a re-run skips what it holds")->required();
  app->add_option("--summary", f->summary, "Summary JSON (default: the --out name with .summary.json)");
  app->add_option("--methods", f->methods,
                  "Comma-separated methods: member names, specfuse, specfuse-noexit, specfuse-hedge, "
                  "specfuse-hedge-noexit, best-of-n, mixture-of-agents, self-consistency (default: all); "
                  "for multiple-choice items also MEMBER-loglik and loglik-vote, which score each "
                  "option's text instead of generating");
  app->add_option("--limit", f->limit, "Use the first N items of each task type (default: all)");
  app->add_option("--sample-seed", f->sample_seed,
                  "With --limit: take a random sample of N items per task drawn from this seed "
                  "(0: the first N)")
      ->capture_default_str();
  app->add_option("--jobs", f->jobs,
                  "Items answered concurrently; their decodes share forward passes (with more than "
                  "1, answers can differ in the last digits of the logits)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app->add_option("--system", f->system, "A system message before every item's prompt (default: none)");
  app->add_flag("--trace", f->trace,
                 "Record every SpecFuse round (candidates, scores, winner) in the results");
  app->add_flag("--rescore", f->rescore,
                "Score the answers already in --out again with the current metrics (after a metric "
                "changed), rewriting the file, before running what is missing");
}

int EvalCommand(const EnsembleFlags& ensemble, const EvalFlags& flags) {
  using namespace specfuse::eval;
  SetLlamaVerbose(ensemble.verbose);
  auto config = ResolveEnsemble(ensemble);
  if (!config.ok()) return Fail(config.status());
  std::vector<Item> items;
  for (const auto& path : flags.data) {
    auto loaded = LoadDataset(path);
    if (!loaded.ok()) return Fail(loaded.status());
    for (auto& item : *loaded) {
      for (const auto& seen : items) {
        if (seen.id == item.id) return Fail(Status::Error(ErrorCode::kInvalidArgument,
                                                          path + ": id \"" + item.id + "\" appears twice"));
      }
      items.push_back(std::move(item));
    }
  }
  items = Stratify(items, flags.limit, flags.sample_seed);
  // Each job holds at most one query per model at a time.
  for (auto& m : config->members) m.llama.max_sequences = std::max(m.llama.max_sequences, flags.jobs);
  auto members = LoadMembers(*config);
  if (!members.ok()) return Fail(members.status());
  auto methods = SelectMethods(*members, flags.methods);
  if (!methods.ok()) return Fail(methods.status());
  auto results = ResultsFile::Open(flags.out, Settings(*config, *members, flags.system));
  if (!results.ok()) return Fail(results.status());

  if (flags.rescore) {
    Status s = Rescore(items, &*results);
    if (!s.ok()) return Fail(s);
  }
  // Items outside, methods inside: a run stopped early has every method on the same items.
  int pending = 0;
  for (const auto& item : items) {
    for (const auto& m : *methods) pending += results->Done(m.name, item.id) ? 0 : 1;
  }
  std::fprintf(stderr, "%zu items x %zu methods: %d to run, %zu already in %s (%d jobs)\n", items.size(),
               methods->size(), pending, items.size() * methods->size() - pending, flags.out.c_str(),
               flags.jobs);
  Status failed = RunItems(items, *methods, *members, *config, flags, pending, &*results);
  if (!failed.ok()) return Fail(failed);

  nlohmann::json summary = Summarize(results->records(), items, *methods);
  summary["subset"] = {{"data", flags.data}, {"limit", flags.limit}, {"sample_seed", flags.sample_seed}};
  std::string summary_path = flags.summary;
  if (summary_path.empty()) {
    summary_path = flags.out;
    if (summary_path.size() > 6 && summary_path.substr(summary_path.size() - 6) == ".jsonl") {
      summary_path.resize(summary_path.size() - 6);
    }
    summary_path += ".summary.json";
  }
  std::ofstream out(summary_path, std::ios::trunc);
  out << summary.dump(2) << '\n';
  if (!out) return Fail(Status::Error(ErrorCode::kInvalidArgument, "cannot write '" + summary_path + "'"));
  std::printf("%s", SummaryMarkdown(summary).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "\nresults: %s\nsummary: %s\n", flags.out.c_str(), summary_path.c_str());
  return 0;
}

}  // namespace specfuse::cli
