// Fuzz target: the word-boundary cut and the UTF-8 helpers it rests on. The first byte
// chooses end_of_generation; the rest is the draft. Invariants (core/segment_cut.h):
// the result is a prefix of the draft, never longer; it is valid UTF-8 when the draft is;
// it is empty only when the draft has no complete character; end-of-generation keeps
// every complete character.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/segment_cut.h"
#include "core/utf8.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool eog = data[0] & 1;
  const std::string_view draft(reinterpret_cast<const char*>(data + 1), size - 1);

  const size_t complete = specfuse::CompleteUtf8Prefix(draft);
  FUZZ_CHECK(complete <= draft.size());
  FUZZ_CHECK(draft.size() - complete < 4);
  const bool valid = specfuse::IsValidUtf8(draft);
  if (valid) FUZZ_CHECK(complete == draft.size());
  // Cutting a valid draft anywhere leaves a valid prefix once the incomplete tail is dropped.
  const std::string_view head = draft.substr(0, draft.size() / 2);
  if (valid) FUZZ_CHECK(specfuse::IsValidUtf8(head.substr(0, specfuse::CompleteUtf8Prefix(head))));

  // Walking back character by character always makes progress, a few bytes at a time.
  size_t at = draft.size(), chars = 0;
  while (at > 0) {
    size_t start = at;
    char32_t cp = specfuse::CodePointBefore(draft, at, &start);
    FUZZ_CHECK(start < at && at - start <= 4);
    if (valid) {
      // (On malformed input a 4-byte form past U+10FFFF decodes as is, not as U+FFFD.)
      FUZZ_CHECK(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
      FUZZ_CHECK(specfuse::IsValidUtf8(draft.substr(start, at - start)));
    }
    at = start;
    ++chars;
  }
  FUZZ_CHECK(chars <= draft.size());

  const std::string cut = specfuse::CutAtWordBoundary(draft, eog);
  FUZZ_CHECK(cut.size() <= draft.size());
  FUZZ_CHECK(draft.compare(0, cut.size(), cut) == 0);
  FUZZ_CHECK(cut.size() <= complete);
  if (valid) FUZZ_CHECK(specfuse::IsValidUtf8(cut));
  FUZZ_CHECK(cut.empty() == (complete == 0));
  if (eog) FUZZ_CHECK(cut.size() == complete);
  return 0;
}
