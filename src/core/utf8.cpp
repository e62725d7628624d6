#include "core/utf8.h"

namespace specfuse {

namespace {

// Bytes in the character a lead byte starts; 0 for a continuation or invalid byte.
int SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return lead >= 0xC2 ? 2 : 0;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return lead <= 0xF4 ? 4 : 0;
  return 0;
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Allowed range of the byte after a lead byte (Unicode Table 3-7): excludes overlong
// forms (E0 80..9F, F0 80..8F), UTF-16 surrogates (ED A0..BF) and code points above
// U+10FFFF (F4 90..BF).
bool SecondByteOk(unsigned char lead, unsigned char second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return IsContinuation(second);
  }
}

}  // namespace

size_t CompleteUtf8Prefix(std::string_view s) {
  // Look back at most 4 bytes for the lead byte of the last character.
  size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if (IsContinuation(c)) continue;
    int len = SequenceLength(c);
    if (len == 0) return n;  // malformed: not ours to repair, keep as is
    return static_cast<size_t>(len) > back ? n - back : n;
  }
  return n;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    int len = SequenceLength(static_cast<unsigned char>(s[i]));
    if (len == 0 || i + len > s.size()) return false;
    if (len > 1 && !SecondByteOk(static_cast<unsigned char>(s[i]),
                                 static_cast<unsigned char>(s[i + 1]))) {
      return false;
    }
    for (int k = 2; k < len; ++k) {
      if (!IsContinuation(static_cast<unsigned char>(s[i + k]))) return false;
    }
    i += len;
  }
  return true;
}

char32_t CodePointBefore(std::string_view s, size_t end, size_t* start) {
  size_t i = end;
  while (i > 0 && end - i < 4) {
    --i;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (IsContinuation(c)) continue;
    int len = SequenceLength(c);
    *start = i;
    if (len == 0 || i + len != end) {
      *start = end - 1;
      return 0xFFFD;
    }
    char32_t cp = len == 1 ? c : (c & (0xFF >> (len + 1)));
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    return cp;
  }
  *start = end - 1;
  return 0xFFFD;
}

}  // namespace specfuse
