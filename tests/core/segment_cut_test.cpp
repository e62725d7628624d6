// The word-boundary cut (src/core/segment_cut.h) and the UTF-8 helpers it relies on
// (src/core/utf8.h).
#include "core/segment_cut.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "core/utf8.h"

namespace specfuse {
namespace {

constexpr bool kStoppedAtTokenLimit = false;
constexpr bool kEndOfGeneration = true;

std::string Cut(std::string_view draft) { return CutAtWordBoundary(draft, kStoppedAtTokenLimit); }

// --- CutAtWordBoundary: ASCII -------------------------------------------------------

TEST(CutAtWordBoundary, ACandidateEndingMidWordIsCutBackToTheLastWordBoundary) {
  EXPECT_EQ(Cut("Paris is the capi"), "Paris is the");
}

TEST(CutAtWordBoundary, TheSpacesBeforeTheDroppedPartialWordAreDroppedToo) {
  EXPECT_EQ(Cut("Hello   wor"), "Hello");
  EXPECT_EQ(Cut("Hello\t\two"), "Hello");
}

TEST(CutAtWordBoundary, PunctuationBeforeTheDroppedPartialWordIsKept) {
  EXPECT_EQ(Cut("Paris, capi"), "Paris,");
  EXPECT_EQ(Cut("(see Fig"), "(see");
}

TEST(CutAtWordBoundary, ADraftEndingInPunctuationIsKeptWhole) {
  EXPECT_EQ(Cut("Paris is the capital."), "Paris is the capital.");
  EXPECT_EQ(Cut("Is it Paris?"), "Is it Paris?");
  EXPECT_EQ(Cut("Hello, world!"), "Hello, world!");
  EXPECT_EQ(Cut("The capital is Paris,"), "The capital is Paris,");
  EXPECT_EQ(Cut("see (Paris)"), "see (Paris)");
}

TEST(CutAtWordBoundary, ADraftThatIsASingleWordIsKept) {
  EXPECT_EQ(Cut("Antidisestablishmentarianis"), "Antidisestablishmentarianis");
  EXPECT_EQ(Cut("x"), "x");
}

TEST(CutAtWordBoundary, AnEmptyDraftGivesAnEmptyCandidate) {
  EXPECT_EQ(CutAtWordBoundary("", kStoppedAtTokenLimit), "");
  EXPECT_EQ(CutAtWordBoundary("", kEndOfGeneration), "");
}

TEST(CutAtWordBoundary, ADraftThatEndedInEndOfGenerationIsKeptWhole) {
  EXPECT_EQ(CutAtWordBoundary("Paris is the capi", kEndOfGeneration), "Paris is the capi");
  EXPECT_EQ(CutAtWordBoundary("Paris is ", kEndOfGeneration), "Paris is ");
}

TEST(CutAtWordBoundary, TrailingSpacesAreDroppedSoTheNextSegmentCarriesItsOwnSpace) {
  EXPECT_EQ(Cut("Paris is the "), "Paris is the");
  EXPECT_EQ(Cut("Paris is the   "), "Paris is the");
  EXPECT_EQ(Cut("Paris is\t"), "Paris is");
  EXPECT_EQ(Cut("Paris is the capital.  "), "Paris is the capital.");
}

TEST(CutAtWordBoundary, ADraftEndingInANewlineIsKeptWhole) {
  EXPECT_EQ(Cut("First line\n"), "First line\n");
  EXPECT_EQ(Cut("First line\n\n"), "First line\n\n");
}

TEST(CutAtWordBoundary, APartialWordAfterANewlineIsCutBackToTheNewline) {
  EXPECT_EQ(Cut("First line\nSec"), "First line\n");
}

TEST(CutAtWordBoundary, ANumberCountsAsAWord) {
  EXPECT_EQ(Cut("It was built in 18"), "It was built in");
}

TEST(CutAtWordBoundary, AnIdentifierWithUnderscoresCountsAsOneWord) {
  EXPECT_EQ(Cut("call my_fun"), "call");
}

// --- CutAtWordBoundary: multi-byte UTF-8 ----------------------------------------------

TEST(CutAtWordBoundary, AnIncompleteTrailingCharacterIsDropped) {
  // "caf" + the first byte of "é" (C3 A9): the stray lead byte goes, and what is left is
  // a single word, which is kept.
  EXPECT_EQ(Cut("caf\xC3"), "caf");
  // With words before it, the partial word goes as well.
  EXPECT_EQ(Cut("Un caf\xC3"), "Un");
}

TEST(CutAtWordBoundary, AnIncompleteTrailingCharacterIsDroppedEvenAtEndOfGeneration) {
  EXPECT_EQ(CutAtWordBoundary("caf\xC3", kEndOfGeneration), "caf");
  EXPECT_EQ(CutAtWordBoundary("Un caf\xC3", kEndOfGeneration), "Un caf");
}

TEST(CutAtWordBoundary, IncompleteThreeAndFourByteCharactersAreDropped) {
  // "東京" + the first two bytes of "は" (E3 81 AF): CJK, so the rest is kept whole.
  EXPECT_EQ(Cut("東京\xE3\x81"), "東京");
  // "ok " + three of the four bytes of U+1F600: the trailing space then goes too.
  EXPECT_EQ(Cut("ok \xF0\x9F\x98"), "ok");
  EXPECT_EQ(CutAtWordBoundary("ok \xF0\x9F\x98", kEndOfGeneration), "ok ");
}

TEST(CutAtWordBoundary, AccentedLatinLettersArePartOfWords) {
  EXPECT_EQ(Cut("café crè"), "café");
  EXPECT_EQ(Cut("Il a bu un café"), "Il a bu un");
  EXPECT_EQ(Cut("Grüße aus Köl"), "Grüße aus");
  EXPECT_EQ(Cut("café"), "café");
}

TEST(CutAtWordBoundary, CombiningMarksArePartOfWords) {
  // Decomposed "café crè": e + U+0301, e + U+0300.
  EXPECT_EQ(Cut("cafe\xCC\x81 cre\xCC\x80"), "cafe\xCC\x81");
}

TEST(CutAtWordBoundary, CjkTextIsKeptWhole) {
  EXPECT_EQ(Cut("東京は日本の首都"), "東京は日本の首都");
  EXPECT_EQ(Cut("The capital is 東京"), "The capital is 東京");
  EXPECT_EQ(Cut("서울"), "서울");
}

TEST(CutAtWordBoundary, ThaiTextIsKeptWhole) {
  EXPECT_EQ(Cut("กรุงเทพมหานครเป็นเมืองหลวง"), "กรุงเทพมหานครเป็นเมืองหลวง");
}

TEST(CutAtWordBoundary, CyrillicTextIsCutAsWords) {
  EXPECT_EQ(Cut("Москва — столица Росс"), "Москва — столица");
  EXPECT_EQ(Cut("Москва — столица России."), "Москва — столица России.");
}

TEST(CutAtWordBoundary, GreekTextIsCutAsWords) {
  EXPECT_EQ(Cut("Η Αθήνα είναι η πρωτεύ"), "Η Αθήνα είναι η");
}

TEST(CutAtWordBoundary, TheGreekQuestionMarkIsPunctuation) {
  // U+037E GREEK QUESTION MARK.
  EXPECT_EQ(Cut("Τι κάνεις\xCD\xBE"), "Τι κάνεις\xCD\xBE");
}

TEST(CutAtWordBoundary, HebrewAndArabicTextIsCutAsWords) {
  EXPECT_EQ(Cut("ירושלים היא הבי"), "ירושלים היא");
  EXPECT_EQ(Cut("القاهرة هي عاصمة مص"), "القاهرة هي عاصمة");
}

TEST(CutAtWordBoundary, TheArabicQuestionMarkIsPunctuation) {
  EXPECT_EQ(Cut("ما هي عاصمة مصر؟"), "ما هي عاصمة مصر؟");
}

TEST(CutAtWordBoundary, DevanagariTextIsCutAsWordsAndTheDandaEndsASentence) {
  EXPECT_EQ(Cut("नई दिल्ली भारत की राजधा"), "नई दिल्ली भारत की");
  EXPECT_EQ(Cut("यह भारत है।"), "यह भारत है।");
}

TEST(CutAtWordBoundary, EveryPrefixOfAMultiByteTextIsCutToWellFormedUtf8) {
  const std::string text = "Un café à Москва, 東京で😀 ok.";
  for (size_t n = 0; n <= text.size(); ++n) {
    const std::string_view prefix = std::string_view(text).substr(0, n);
    for (bool eog : {kStoppedAtTokenLimit, kEndOfGeneration}) {
      const std::string cut = CutAtWordBoundary(prefix, eog);
      EXPECT_TRUE(IsValidUtf8(cut)) << "prefix of " << n << " bytes, eog " << eog;
      EXPECT_EQ(prefix.substr(0, cut.size()), cut) << "prefix of " << n << " bytes";
    }
  }
}

// --- CompleteUtf8Prefix --------------------------------------------------------------

TEST(CompleteUtf8Prefix, AnEmptyOrAsciiStringIsCompleteAsIs) {
  EXPECT_EQ(CompleteUtf8Prefix(""), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
}

TEST(CompleteUtf8Prefix, AStringEndingInACompleteCharacterIsCompleteAsIs) {
  EXPECT_EQ(CompleteUtf8Prefix("caf\xC3\xA9"), 5u);         // é
  EXPECT_EQ(CompleteUtf8Prefix("a\xE6\x9D\xB1"), 4u);       // 東
  EXPECT_EQ(CompleteUtf8Prefix("a\xF0\x9F\x98\x80"), 5u);   // U+1F600
}

TEST(CompleteUtf8Prefix, ATwoByteCharacterCutAfterItsLeadByteIsLeftOut) {
  EXPECT_EQ(CompleteUtf8Prefix("caf\xC3"), 3u);
}

TEST(CompleteUtf8Prefix, AThreeByteCharacterCutAnywhereIsLeftOut) {
  EXPECT_EQ(CompleteUtf8Prefix("a\xE6"), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xE6\x9D"), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("\xE6\x9D"), 0u);
}

TEST(CompleteUtf8Prefix, AFourByteCharacterCutAnywhereIsLeftOut) {
  EXPECT_EQ(CompleteUtf8Prefix("a\xF0"), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xF0\x9F"), 1u);
  EXPECT_EQ(CompleteUtf8Prefix("a\xF0\x9F\x98"), 1u);
}

TEST(CompleteUtf8Prefix, MalformedBytesAtTheEndAreKeptAsTheyAre) {
  EXPECT_EQ(CompleteUtf8Prefix("ab\x80"), 3u);              // stray continuation byte
  EXPECT_EQ(CompleteUtf8Prefix("ab\xFF"), 3u);              // never a lead byte
  EXPECT_EQ(CompleteUtf8Prefix("a\x80\x80\x80\x80"), 5u);   // too many continuations
}

// --- IsValidUtf8 ---------------------------------------------------------------------

TEST(IsValidUtf8, AcceptsAsciiAndWellFormedMultiByteText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Paris"));
  EXPECT_TRUE(IsValidUtf8("café Москва 東京 😀"));
}

TEST(IsValidUtf8, AcceptsTheBoundaryCodePointsOfEachSequenceLength) {
  EXPECT_TRUE(IsValidUtf8(std::string_view("\x00", 1)));   // U+0000
  EXPECT_TRUE(IsValidUtf8("\x7F"));                         // U+007F
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));                     // U+0080
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));                     // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));                 // U+0800
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));                 // U+D7FF
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));                 // U+E000
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));                 // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));             // U+10000
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));             // U+10FFFF
}

TEST(IsValidUtf8, RejectsATruncatedCharacter) {
  EXPECT_FALSE(IsValidUtf8("caf\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE6\x9D"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\xC3 "));                       // lead byte, then no continuation
}

TEST(IsValidUtf8, RejectsAStrayContinuationByte) {
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("a\xBF" "b"));
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9\xA9"));
}

TEST(IsValidUtf8, RejectsBytesThatNeverAppearInUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                    // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(IsValidUtf8, RejectsOverlongThreeAndFourByteForms) {
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));                // '/' in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));                // U+07FF in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));            // '/' in 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));            // U+FFFF in 4 bytes
}

TEST(IsValidUtf8, RejectsUtf16Surrogates) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));                // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));                // U+DFFF
}

TEST(IsValidUtf8, RejectsCodePointsAboveU10FFFF) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));            // U+110000
}

// --- CodePointBefore -----------------------------------------------------------------

TEST(CodePointBefore, DecodesTheCharacterEndingAtAPositionOfEachLength) {
  const std::string_view s = "a\xC3\xA9\xE6\x9D\xB1\xF0\x9F\x98\x80";  // a é 東 U+1F600
  size_t start = 99;
  EXPECT_EQ(CodePointBefore(s, 10, &start), U'\U0001F600');
  EXPECT_EQ(start, 6u);
  EXPECT_EQ(CodePointBefore(s, 6, &start), U'\u6771');
  EXPECT_EQ(start, 3u);
  EXPECT_EQ(CodePointBefore(s, 3, &start), U'\u00E9');
  EXPECT_EQ(start, 1u);
  EXPECT_EQ(CodePointBefore(s, 1, &start), U'a');
  EXPECT_EQ(start, 0u);
}

TEST(CodePointBefore, AMalformedByteDecodesAsTheReplacementCharacterOfOneByte) {
  size_t start = 99;
  EXPECT_EQ(CodePointBefore("ab\x80", 3, &start), U'\uFFFD');
  EXPECT_EQ(start, 2u);
  EXPECT_EQ(CodePointBefore("ab\xC3", 3, &start), U'\uFFFD');  // lead byte cut short
  EXPECT_EQ(start, 2u);
}

}  // namespace
}  // namespace specfuse
