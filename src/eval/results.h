// The results file of an evaluation (JSON lines, one per finished (method, item)) and its
// summary per task type and method.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/dataset.h"
#include "eval/methods.h"
#include "eval/metrics.h"
#include "specfuse/ensemble_options.h"

namespace specfuse::eval {

// The options of a results line's settings, the ones that change an answer: each option
// of the option table (specfuse/option_table.h) that has a `setting` key, under it
// ("exit.epsilon" nests under "exit"); an option that is off (a negative anchor margin) is
// left out, as results files have always written them. The weights and model exit are
// the methods' own (specfuse-hedge-noexit, ...) and not among them.
nlohmann::json OptionSettings(const EnsembleOptions& options);

// One result line: {"method", "id", "task", "answer", "score", "metrics", "tokens",
// "model_calls", "wall_ms", "finish_reason", "settings", ...} plus "rounds",
// "calls_saved_by_exit", "rounds_won", "active_per_round" for SpecFuse methods and
// "responses" (text, and model, combined or vote where the method has them) and "chosen"
// for best-of-n, mixture-of-agents and self-consistency. Everything but wall_ms is deterministic.
nlohmann::json RecordJson(const Method& method, const Item& item, const MethodRun& run,
                          const ItemScore& score, const nlohmann::json& settings);

// An append-only results file. Opening reads what earlier runs wrote; a last line cut
// short by an interrupted write is dropped from the file. Not thread-safe.
class ResultsFile {
 public:
  // Opens (creating when missing) path for appending. Errors: unreadable or unwritable
  // file, a malformed line other than the last, a line written under other settings
  // (a different ensemble or options: start a new file for those).
  static Result<ResultsFile> Open(const std::string& path, const nlohmann::json& settings);

  bool Done(const std::string& method, const std::string& id) const;
  // Appends one line and flushes it to the file before returning.
  Status Append(const nlohmann::json& record);
  // Replaces every record (the same pairs, rescored): written to a temporary file that
  // then takes the file's place, so an interruption leaves the old file whole.
  Status Replace(std::vector<nlohmann::json> records);
  const std::vector<nlohmann::json>& records() const { return records_; }

 private:
  std::string path_;
  std::set<std::pair<std::string, std::string>> done_;
  std::vector<nlohmann::json> records_;
};

// The summary of records over the items that every one of methods has finished:
// {"items": N, "methods": [...], "reference": best member alone,
//  "tasks": {"overall"|task: {"n", "headline", "methods": {name: {"score": {mean, low, high},
//  "metrics": {...}, "tokens", "model_calls", "wall_s", "rounds", "calls_saved_by_exit",
//  "vs_reference": {mean, low, high}}}}}}. Intervals: 95% percentile bootstrap, 1000
// resamples, fixed seed; vs_reference is the paired difference in score.
nlohmann::json Summarize(const std::vector<nlohmann::json>& records, const std::vector<Item>& items,
                         const std::vector<Method>& methods);

// The summary as Markdown tables, one per task type and overall.
std::string SummaryMarkdown(const nlohmann::json& summary);

}  // namespace specfuse::eval
