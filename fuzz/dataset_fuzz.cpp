// Fuzz target: the evaluation JSONL reader, on arbitrary bytes. It returns items or an
// error naming origin:line; the items it returns obey the format (eval/README.md).
#include <cstdint>
#include <set>
#include <string>

#include "eval/dataset.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using specfuse::eval::Task;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto items = specfuse::eval::ParseDataset(text, "fuzz.jsonl");
  if (!items.ok()) {
    FUZZ_CHECK(items.status().message().rfind("fuzz.jsonl", 0) == 0);
    return 0;
  }
  FUZZ_CHECK(!items->empty());
  std::set<std::string> ids;
  for (const auto& item : *items) {
    FUZZ_CHECK(ids.insert(item.id).second);
    FUZZ_CHECK(!item.id.empty() && !item.prompt.empty());
    if (item.task == Task::kChoice) {
      FUZZ_CHECK(item.choices.size() >= 2 && item.choices.size() <= 26);
      FUZZ_CHECK(item.answer.size() == 1 && item.answer[0] >= 'A' &&
                 item.answer[0] < 'A' + static_cast<int>(item.choices.size()));
    } else if (item.task == Task::kInstruction) {
      FUZZ_CHECK(!item.reference.empty() && item.choices.empty());
    } else {
      FUZZ_CHECK(!item.answer.empty() && item.choices.empty());
    }
    FUZZ_CHECK(specfuse::eval::RenderPrompt(item).rfind(item.prompt, 0) == 0);
  }
  for (int per_task : {0, 1, 2}) {
    auto picked = specfuse::eval::Stratify(*items, per_task);
    FUZZ_CHECK(picked.size() <= items->size());
    if (per_task == 0) FUZZ_CHECK(picked.size() == items->size());
  }
  return 0;
}
