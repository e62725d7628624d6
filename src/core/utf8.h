// UTF-8 helpers: drafted text is made of token pieces that may split a character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace specfuse {

// Length of the longest prefix of s that does not end inside a multi-byte character.
size_t CompleteUtf8Prefix(std::string_view s);

// True when s is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// Decodes the character ending at byte `end` (exclusive); sets *start to its first
// byte. Returns the code point, or 0xFFFD for a malformed byte.
char32_t CodePointBefore(std::string_view s, size_t end, size_t* start);

}  // namespace specfuse
