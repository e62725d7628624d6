#include "eval/dataset.h"

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace specfuse::eval {

namespace {

const char* const kTaskNames[] = {"arithmetic", "factual", "choice", "instruction",
                                  "math", "short", "code"};
constexpr int kTaskCount = sizeof(kTaskNames) / sizeof(kTaskNames[0]);

Status Bad(const std::string& where, const std::string& what) {
  return Status::Error(ErrorCode::kInvalidArgument, where + ": " + what);
}

// A non-empty array of non-empty strings at key.
Status StringList(const nlohmann::json& j, const char* key, const std::string& where,
                  std::vector<std::string>* out) {
  if (!j.contains(key) || !j[key].is_array() || j[key].empty()) {
    return Bad(where, std::string("\"") + key + "\" must be a non-empty array of strings");
  }
  for (const auto& v : j[key]) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      return Bad(where, std::string("\"") + key + "\" must hold non-empty strings");
    }
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

}  // namespace

Result<Task> ParseTask(const std::string& name) {
  for (int t = 0; t < kTaskCount; ++t) {
    if (name == kTaskNames[t]) return static_cast<Task>(t);
  }
  return Status::Error(ErrorCode::kInvalidArgument,
                       "unknown task '" + name +
                           "' (arithmetic, factual, choice, instruction, math, short or code)");
}

const char* TaskName(Task task) { return kTaskNames[static_cast<int>(task)]; }

std::string RenderPrompt(const Item& item) {
  switch (item.task) {
    case Task::kChoice: {
      std::string out = item.prompt + "\n";
      for (size_t i = 0; i < item.choices.size(); ++i) {
        out += std::string(1, static_cast<char>('A' + i)) + ") " + item.choices[i] + "\n";
      }
      return out + "Answer with the letter of the correct choice.";
    }
    case Task::kMath:
      return item.prompt +
             "\nSolve the problem step by step. End with \"The answer is N.\", where N is the final "
             "number.";
    case Task::kShort:
      return "Answer the question with just the answer, in a few words.\nQuestion: " + item.prompt;
    case Task::kCode: {
      std::string body = item.prompt;
      while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
      return "Please provide a self-contained Python script that solves the following problem in a "
             "markdown code block:\n```\n" + body + "\n```\n";
    }
    default:
      return item.prompt;
  }
}

std::string ResponsePrefix(const Item& item) {
  if (item.task != Task::kCode) return "";
  return "Below is a Python script with a self-contained function that solves the problem and "
         "passes corresponding tests:\n```python\n";
}

std::vector<std::string> TaskStops(const Item& item) {
  if (item.task == Task::kCode) return {"\n```"};
  return {};
}

Result<std::vector<Item>> ParseDataset(const std::string& text, const std::string& origin) {
  std::vector<Item> items;
  std::set<std::string> ids;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = origin + ":" + std::to_string(number);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return Bad(where, "not a JSON object");
    auto text_field = [&](const char* key, std::string* out) -> Status {
      if (!j.contains(key)) return Bad(where, std::string("missing \"") + key + "\"");
      if (!j[key].is_string() || j[key].get<std::string>().empty()) {
        return Bad(where, std::string("\"") + key + "\" must be a non-empty string");
      }
      *out = j[key].get<std::string>();
      return Status::Ok();
    };
    Item item;
    std::string task;
    for (auto [key, out] : {std::pair<const char*, std::string*>{"id", &item.id},
                            {"task", &task},
                            {"prompt", &item.prompt}}) {
      Status s = text_field(key, out);
      if (!s.ok()) return s;
    }
    auto parsed = ParseTask(task);
    if (!parsed.ok()) return Bad(where, parsed.status().message());
    item.task = *parsed;
    std::set<std::string> allowed = {"id", "task", "prompt"};
    Status s;
    switch (item.task) {
      case Task::kArithmetic:
      case Task::kFactual:
        allowed.insert("answer");
        s = text_field("answer", &item.answer);
        break;
      case Task::kChoice: {
        allowed.insert({"answer", "choices"});
        if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].size() < 2 ||
            j["choices"].size() > 26) {
          return Bad(where, "\"choices\" must be an array of 2 to 26 strings");
        }
        for (const auto& c : j["choices"]) {
          if (!c.is_string() || c.get<std::string>().empty()) {
            return Bad(where, "\"choices\" must hold non-empty strings");
          }
          item.choices.push_back(c.get<std::string>());
        }
        s = text_field("answer", &item.answer);
        if (s.ok() && (item.answer.size() != 1 || item.answer[0] < 'A' ||
                       item.answer[0] >= 'A' + static_cast<int>(item.choices.size()))) {
          return Bad(where, "\"answer\" must be the letter of a choice (A.." +
                                std::string(1, static_cast<char>('A' + item.choices.size() - 1)) + ")");
        }
        break;
      }
      case Task::kInstruction:
        allowed.insert("reference");
        s = text_field("reference", &item.reference);
        break;
      case Task::kMath:
        allowed.insert("answer");
        s = text_field("answer", &item.answer);
        break;
      case Task::kShort:
        allowed.insert("answers");
        s = StringList(j, "answers", where, &item.answers);
        break;
      case Task::kCode:
        allowed.insert({"tests", "solution"});
        s = text_field("tests", &item.tests);
        if (s.ok() && j.contains("solution")) s = text_field("solution", &item.solution);
        break;
    }
    if (!s.ok()) return s;
    allowed.insert("max_tokens");
    if (j.contains("max_tokens")) {
      const auto& m = j["max_tokens"];
      if (!m.is_number_integer() || m.get<int64_t>() < 1 || m.get<int64_t>() > 1000000) {
        return Bad(where, "\"max_tokens\" must be a positive integer");
      }
      item.max_tokens = m.get<int>();
    }
    for (const auto& [key, value] : j.items()) {
      if (!allowed.count(key)) {
        return Bad(where, "unexpected field \"" + key + "\" for task " + task);
      }
    }
    if (!ids.insert(item.id).second) return Bad(where, "duplicate id \"" + item.id + "\"");
    items.push_back(std::move(item));
  }
  if (items.empty()) return Status::Error(ErrorCode::kInvalidArgument, origin + ": no items");
  return items;
}

Result<std::vector<Item>> LoadDataset(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(ErrorCode::kNotFound, "cannot read the data file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseDataset(buffer.str(), path);
}

std::vector<Item> Stratify(const std::vector<Item>& items, int per_task, uint64_t sample_seed) {
  std::vector<Task> order;
  std::map<Task, std::vector<const Item*>> by_task;
  for (const auto& item : items) {
    if (!by_task.count(item.task)) order.push_back(item.task);
    by_task[item.task].push_back(&item);
  }
  if (sample_seed != 0) {
    std::mt19937_64 rng(sample_seed);
    for (auto& [task, list] : by_task) {
      for (size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[rng() % i]);
    }
  }
  std::vector<Item> out;
  for (size_t k = 0;; ++k) {
    if (per_task > 0 && k >= static_cast<size_t>(per_task)) break;
    bool any = false;
    for (Task t : order) {
      if (k < by_task[t].size()) {
        out.push_back(*by_task[t][k]);
        any = true;
      }
    }
    if (!any) break;
  }
  return out;
}

}  // namespace specfuse::eval
