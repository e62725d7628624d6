#include "eval/results.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <type_traits>
#include <variant>

#include "eval/bootstrap.h"
#include "specfuse/option_table.h"

namespace specfuse::eval {

namespace {

nlohmann::json ValueJson(const OptionValue& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::monostate>) return nullptr;
        else return v;
      },
      value);
}

bool IsOff(const OptionSpec& spec, const OptionValue& value) {
  const double* v = std::get_if<double>(&value);
  return spec.negative_is_off && v && *v < 0;
}

}  // namespace

nlohmann::json OptionSettings(const EnsembleOptions& options) {
  nlohmann::json j = nlohmann::json::object();
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    if (spec.setting == nullptr) continue;
    const OptionValue value = GetOption(spec, options);
    if (IsOff(spec, value)) continue;
    std::string key = spec.setting;
    nlohmann::json* at = &j;
    if (const size_t dot = key.find('.'); dot != std::string::npos) {
      at = &j[key.substr(0, dot)];
      key = key.substr(dot + 1);
    }
    (*at)[key] = ValueJson(value);
  }
  return j;
}

nlohmann::json RecordJson(const Method& method, const Item& item, const MethodRun& run,
                          const ItemScore& score, const nlohmann::json& settings) {
  nlohmann::json j;
  j["method"] = method.name;
  j["id"] = item.id;
  j["task"] = TaskName(item.task);
  j["answer"] = run.answer;
  j["score"] = score.score;
  j["metrics"] = score.metrics;
  j["tokens"] = run.tokens;
  j["model_calls"] = run.model_calls;
  j["wall_ms"] = run.wall_ms;
  j["finish_reason"] = run.finish_reason;
  if (method.kind == Method::Kind::kSpecFuse) {
    j["rounds"] = run.rounds;
    j["calls_saved_by_exit"] = run.calls_saved_by_exit;
    j["rounds_won"] = run.rounds_won;
    j["active_per_round"] = run.active_per_round;
    if (!run.trace.empty()) {
      j["trace"] = nlohmann::json::array();
      for (const auto& round : run.trace) j["trace"].push_back(nlohmann::json::parse(round));
    }
  }
  if (!run.responses.empty()) {
    j["responses"] = nlohmann::json::array();
    for (size_t i = 0; i < run.responses.size(); ++i) {
      nlohmann::json r = {{"text", run.responses[i]}};
      if (i < run.responders.size()) r["model"] = run.responders[i];
      if (i < run.combined.size()) r["combined"] = run.combined[i];
      if (i < run.votes.size()) r["vote"] = run.votes[i];
      j["responses"].push_back(r);
    }
    j["chosen"] = run.chosen;
  }
  j["settings"] = settings;
  return j;
}

Result<ResultsFile> ResultsFile::Open(const std::string& path, const nlohmann::json& settings) {
  ResultsFile f;
  f.path_ = path;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream b;
      b << in.rdbuf();
      text = b.str();
    }
  }
  // Every line this file gets ends in a newline; text after the last one is a write that
  // was cut short, dropped here and redone by the run.
  size_t kept = 0;
  for (size_t pos = 0, number = 1; pos < text.size(); ++number) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \r\t") == std::string::npos) {
      kept = pos;
      continue;
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("method") || !j.contains("id")) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           path + ":" + std::to_string(number) + ": not a result line");
    }
    const nlohmann::json written = j.value("settings", nlohmann::json());
    if (written != settings) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           path + ":" + std::to_string(number) + ": written with other settings (" +
                               written.dump() + ", now " + settings.dump() + "); use another --out file");
    }
    f.done_.insert({j["method"].get<std::string>(), j["id"].get<std::string>()});
    f.records_.push_back(std::move(j));
    kept = pos;
  }
  if (kept != text.size()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(kept));
    if (!out) return Status::Error(ErrorCode::kInvalidArgument, "cannot rewrite '" + path + "'");
    std::fprintf(stderr, "%s: dropped an unfinished last line\n", path.c_str());
  }
  std::ofstream probe(path, std::ios::app);
  if (!probe) return Status::Error(ErrorCode::kInvalidArgument, "cannot write '" + path + "'");
  return f;
}

bool ResultsFile::Done(const std::string& method, const std::string& id) const {
  return done_.count({method, id}) > 0;
}

Status ResultsFile::Append(const nlohmann::json& record) {
  std::ofstream out(path_, std::ios::app | std::ios::binary);
  out << record.dump() << '\n';
  out.flush();
  if (!out) return Status::Error(ErrorCode::kInvalidArgument, "cannot append to '" + path_ + "'");
  done_.insert({record["method"].get<std::string>(), record["id"].get<std::string>()});
  records_.push_back(record);
  return Status::Ok();
}

Status ResultsFile::Replace(std::vector<nlohmann::json> records) {
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    for (const auto& r : records) out << r.dump() << '\n';
    out.flush();
    if (!out) return Status::Error(ErrorCode::kInvalidArgument, "cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status::Error(ErrorCode::kInvalidArgument, "cannot replace '" + path_ + "'");
  }
  records_ = std::move(records);
  return Status::Ok();
}

namespace {

nlohmann::json IntervalJson(const Interval& i) { return {{"mean", i.mean}, {"low", i.low}, {"high", i.high}}; }

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

}  // namespace

nlohmann::json Summarize(const std::vector<nlohmann::json>& records, const std::vector<Item>& items,
                         const std::vector<Method>& methods) {
  std::map<std::pair<std::string, std::string>, const nlohmann::json*> by_key;
  for (const auto& r : records) by_key[{r["method"].get<std::string>(), r["id"].get<std::string>()}] = &r;
  // Only items every method finished, so that all methods are compared on the same items.
  std::vector<const Item*> complete;
  for (const auto& item : items) {
    bool all = true;
    for (const auto& m : methods) all = all && by_key.count({m.name, item.id});
    if (all) complete.push_back(&item);
  }
  nlohmann::json s;
  s["items"] = complete.size();
  s["methods"] = nlohmann::json::array();
  for (const auto& m : methods) s["methods"].push_back(m.name);

  auto summarize_group = [&](const std::vector<const Item*>& group, const std::string& headline,
                             const std::string& reference) {
    nlohmann::json g;
    g["n"] = group.size();
    g["headline"] = headline;
    for (const auto& m : methods) {
      std::vector<double> score, tokens, calls, wall, rounds, saved, diff;
      std::map<std::string, std::vector<double>> metrics;
      for (const Item* item : group) {
        const auto& r = *by_key[{m.name, item->id}];
        score.push_back(r["score"].get<double>());
        tokens.push_back(r["tokens"].get<double>());
        calls.push_back(r["model_calls"].get<double>());
        wall.push_back(r["wall_ms"].get<double>() / 1000.0);
        rounds.push_back(r.value("rounds", 0.0));
        saved.push_back(r.value("calls_saved_by_exit", 0.0));
        for (const auto& [k, v] : r["metrics"].items()) metrics[k].push_back(v.get<double>());
        if (!reference.empty()) {
          diff.push_back(r["score"].get<double>() - (*by_key[{reference, item->id}])["score"].get<double>());
        }
      }
      nlohmann::json mj;
      mj["score"] = IntervalJson(BootstrapMean(score));
      if (group.size() > 0 && metrics.size() > 0 && headline != "score") {
        for (const auto& [k, v] : metrics) {
          if (v.size() == group.size()) mj["metrics"][k] = IntervalJson(BootstrapMean(v));
        }
      }
      mj["tokens"] = Mean(tokens);
      mj["model_calls"] = Mean(calls);
      mj["wall_s"] = Mean(wall);
      if (m.kind == Method::Kind::kSpecFuse) {
        mj["rounds"] = Mean(rounds);
        mj["calls_saved_by_exit"] = Mean(saved);
      }
      if (!reference.empty()) mj["vs_reference"] = IntervalJson(BootstrapMean(diff));
      g["methods"][m.name] = mj;
    }
    return g;
  };

  // The reference is the best member alone over all complete items (generating, or
  // scoring options under the log-likelihood protocol).
  std::string reference;
  double best = -1;
  nlohmann::json overall = summarize_group(complete, "score", "");
  for (const auto& m : methods) {
    const bool alone = m.kind == Method::Kind::kAlone ||
                       (m.kind == Method::Kind::kChoiceLoglik && m.member != kAllMembers);
    if (!alone) continue;
    double v = overall["methods"][m.name]["score"]["mean"].get<double>();
    if (v > best) {
      best = v;
      reference = m.name;
    }
  }
  s["reference"] = reference;
  s["tasks"]["overall"] = summarize_group(complete, "score", reference);
  for (Task t : {Task::kArithmetic, Task::kFactual, Task::kChoice, Task::kInstruction, Task::kMath,
                 Task::kShort, Task::kCode}) {
    std::vector<const Item*> group;
    for (const Item* item : complete) {
      if (item->task == t) group.push_back(item);
    }
    if (!group.empty()) s["tasks"][TaskName(t)] = summarize_group(group, HeadlineMetric(t), reference);
  }
  return s;
}

std::string SummaryMarkdown(const nlohmann::json& s) {
  std::string out;
  char buf[512];
  auto ci = [&](const nlohmann::json& i) {
    std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", i["mean"].get<double>(), i["low"].get<double>(),
                  i["high"].get<double>());
    return std::string(buf);
  };
  for (const char* task : {"arithmetic", "factual", "choice", "instruction", "overall"}) {
    if (!s["tasks"].contains(task)) continue;
    const auto& g = s["tasks"][task];
    std::snprintf(buf, sizeof buf, "\n%s (%d items; score = %s)\n\n", task, g["n"].get<int>(),
                  g["headline"].get<std::string>().c_str());
    out += buf;
    out += "| method | score [95% CI] | vs " + s["reference"].get<std::string>() +
           " [95% CI] | other metrics | tokens | model calls | wall s |\n|---|---|---|---|---|---|---|\n";
    for (const auto& name : s["methods"]) {
      const auto& m = g["methods"][name.get<std::string>()];
      std::string others;
      if (m.contains("metrics")) {
        for (const auto& [k, v] : m["metrics"].items()) {
          if (k == g["headline"].get<std::string>()) continue;
          others += (others.empty() ? "" : "; ") + k + " " + ci(v);
        }
      }
      std::string vs = m.contains("vs_reference") ? ci(m["vs_reference"]) : "";
      std::snprintf(buf, sizeof buf, "| %s | %s | %s | %s | %.1f | %.1f | %.2f |\n",
                    name.get<std::string>().c_str(), ci(m["score"]).c_str(), vs.c_str(), others.c_str(),
                    m["tokens"].get<double>(), m["model_calls"].get<double>(), m["wall_s"].get<double>());
      out += buf;
    }
  }
  return out;
}

}  // namespace specfuse::eval
