// EchoTail reads a candidate's tokens out of an echo completion, whatever the server's
// text_offset convention.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "backends/openai/openai_model.h"

namespace specfuse::openai {
namespace {

using nlohmann::json;

json Choice(const std::string& text, json tokens, json logprobs, json offsets) {
  return {{"text", text},
          {"logprobs", {{"tokens", tokens}, {"token_logprobs", logprobs}, {"text_offset", offsets}}}};
}

std::vector<std::string> Pieces(const std::vector<TokenInfo>& t) {
  std::vector<std::string> out;
  for (const auto& x : t) out.push_back(x.piece);
  return out;
}

TEST(EchoTail, ControlTokensWithoutTextDoNotShiftTheCandidate) {
  // specfuse serve: byte offsets, control tokens count zero bytes.
  std::string prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!";
  json c = Choice(prompt, {"", "user", "\n", "Hi", "", "\n", "", "ass", "istant", "\n", "Hello", "!"},
                  {nullptr, -1, -1, -1, -1, -1, -1, -1, -1, -1, -2.5, -0.5},
                  {0, 0, 4, 5, 7, 7, 8, 8, 11, 17, 18, 23});
  auto t = EchoTail(c, prompt, 6);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{"Hello", "!"}));
  EXPECT_FLOAT_EQ((*t)[0].logprob, -2.5f);
  EXPECT_FLOAT_EQ((*t)[1].logit, -0.5f);  // no logits over the API: the logprob stands in
}

TEST(EchoTail, CharacterOffsetsAreReadAsCharacters) {
  // vLLM: offsets count characters of the token strings.
  std::string prompt = "Gr\xC3\xBC\xC3\x9F" "e!";  // "Grüße!"
  json c = Choice(prompt, {"Gr", "\xC3\xBC\xC3\x9F" "e", "!"}, {nullptr, -1.0, -2.0}, {0, 2, 5});
  auto t = EchoTail(c, prompt, 7);  // "üße!"
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{"\xC3\xBC\xC3\x9F" "e", "!"}));
}

TEST(EchoTail, MangledPartialCharactersAreCutFromTheText) {
  // Byte offsets are right even when the token strings of a split character are U+FFFD.
  std::string prompt = "ab\xE4\xBF\xAE\n";  // "ab修\n"
  json c = Choice(prompt, {"ab", "\xEF\xBF\xBD", "\xEF\xBF\xBD", "\n"}, {nullptr, -3.0, -1.0, -0.5},
                  {0, 2, 4, 5});
  auto t = EchoTail(c, prompt, 4);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{"\xE4\xBF", "\xAE", "\n"}));
  EXPECT_FLOAT_EQ((*t)[0].logprob, -3.0f);
}

TEST(EchoTail, ATokenReachingIntoTheContextIsLeftOutUnlessItIsTheOnlyOne) {
  std::string prompt = "ab\n\ncd";
  json c = Choice(prompt, {"ab", "\n\n", "cd"}, {nullptr, -1.0, -2.0}, {0, 2, 4});
  auto t = EchoTail(c, prompt, 3);  // "\ncd"
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{"cd"}));
  json d = Choice("ab\n\n", {"ab", "\n\n"}, {nullptr, -1.0}, {0, 2});
  t = EchoTail(d, "ab\n\n", 1);  // "\n"
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{"\n"}));
}

TEST(EchoTail, TokensGeneratedAfterTheEchoAreSkipped) {
  std::string prompt = "one two";
  json c = Choice("one two three", {"one", " two", " three"}, {nullptr, -1.0, -0.1}, {0, 3, 7});
  auto t = EchoTail(c, prompt, 4);  // " two"
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Pieces(*t), (std::vector<std::string>{" two"}));
  EXPECT_FLOAT_EQ((*t)[0].logprob, -1.0f);
}

TEST(EchoTail, AnAnswerWithoutLogprobsIsAnError) {
  auto t = EchoTail(json{{"text", "x"}}, "x", 1);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace specfuse::openai
