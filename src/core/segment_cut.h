// The word-boundary cut (DESIGN §2.1): a draft that stopped at the token limit may end
// in the middle of a word; cutting it back to the last word boundary keeps every
// model's tokenization of the accepted text natural.
#pragma once

#include <string>
#include <string_view>

namespace specfuse {

// Returns the part of a draft that may become a candidate.
// - An incomplete trailing UTF-8 character is always dropped.
// - A draft that ended in end-of-generation is kept whole.
// - A draft ending in punctuation, a newline or a character of a script written without
//   spaces (CJK, Thai, ...) is kept whole.
// - Otherwise a trailing partial word and the spaces before it are dropped, unless the
//   draft is a single word, which is kept.
std::string CutAtWordBoundary(std::string_view draft, bool end_of_generation);

}  // namespace specfuse
