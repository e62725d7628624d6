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
  if (c == 0x37E || c == 0x387) return false;                         // Greek ; and ·
  if (c >= 0x370 && c <= 0x52F) return true;                          // Greek, Cyrillic
  if (c >= 0x531 && c <= 0x588) return c < 0x55A || c > 0x55F;       // Armenian letters
  if (c >= 0x591 && c <= 0x5F2) {                                     // Hebrew letters, points
    return c != 0x5BE && c != 0x5C0 && c != 0x5C3 && c != 0x5C6;      // not its punctuation
  }
  if (c >= 0x610 && c <= 0x6FF) {                                     // Arabic
    return (c < 0x61B || c > 0x61F) && (c < 0x66A || c > 0x66D) && c != 0x6D4;
  }
  if (c >= 0x750 && c <= 0x77F) return true;                          // Arabic Supplement
  if (c >= 0x900 && c <= 0xDFF) return c != 0x964 && c != 0x965;      // Indic, not the dandas
  if (c >= 0x10A0 && c <= 0x10FF) return c != 0x10FB;                 // Georgian
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
