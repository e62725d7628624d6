#include "core/segment_cut.h"

#include "core/utf8.h"

namespace specfuse {

namespace {

// Letters and digits of scripts that separate words with spaces: a draft ending in one
// may end mid-word.
bool IsSpacedWordChar(char32_t c) {
  if (c < 0x80) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }
  if (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) return true;  // Latin-1, Latin Extended
  if (c >= 0x300 && c <= 0x36F) return true;                          // combining marks
  if (c >= 0x370 && c <= 0x52F) return true;                          // Greek, Cyrillic
  if (c >= 0x1E00 && c <= 0x1FFF) return true;                        // Latin/Greek Extended
  return false;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string CutAtWordBoundary(std::string_view draft, bool end_of_generation) {
  std::string_view text = draft.substr(0, CompleteUtf8Prefix(draft));
  if (end_of_generation || text.empty()) return std::string(text);

  size_t start = 0;
  char32_t last = CodePointBefore(text, text.size(), &start);
  if (!IsSpacedWordChar(last)) {
    // Punctuation, newline or an unspaced script: a boundary already. Trailing blanks
    // are dropped so that the next segment carries its own leading space.
    size_t end = text.size();
    while (end > 0 && IsBlank(text[end - 1])) --end;
    return std::string(text.substr(0, end == 0 ? text.size() : end));
  }
  // Walk back over the trailing word.
  size_t word_start = start;
  while (word_start > 0) {
    size_t prev = 0;
    char32_t c = CodePointBefore(text, word_start, &prev);
    if (!IsSpacedWordChar(c)) break;
    word_start = prev;
  }
  size_t end = word_start;
  while (end > 0 && IsBlank(text[end - 1])) --end;
  if (end == 0) return std::string(text);  // a single word: keep it
  return std::string(text.substr(0, end));
}

}  // namespace specfuse
