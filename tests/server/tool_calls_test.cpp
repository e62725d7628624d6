// The one tool-call text of server/tool_calls.h: what each tool_choice's grammar lets a
// member's answer be, how earlier calls are replayed, and how an answer is read back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/tool_calls.h"
#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse::server {
namespace {

using nlohmann::json;

const json kWeather = json::parse(R"({"type": "function", "function": {
  "name": "get_weather", "description": "The weather in a city",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                 "required": ["city"], "additionalProperties": false}}})");
const json kTime = json::parse(R"({"type": "function", "function": {
  "name": "get_time",
  "parameters": {"type": "object", "properties": {"zone": {"$ref": "#/$defs/zone"}},
                 "required": ["zone"], "additionalProperties": false,
                 "$defs": {"zone": {"enum": ["UTC", "CET"]}}}}})");

const char* kOneCall = R"({"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}}]})";
const char* kTwoCalls =
    R"({"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}},)"
    R"({"name":"get_time","arguments":{"zone":"CET"}}]})";

ToolRequest Parse(json body) {
  ToolRequest request;
  auto problem = ParseTools(body, &request);
  EXPECT_FALSE(problem) << (problem ? problem->message : "");
  return request;
}

std::string Grammar(json body) {
  std::string grammar;
  auto problem = ToolGrammar(Parse(std::move(body)), &grammar);
  EXPECT_FALSE(problem) << (problem ? problem->message : "");
  return grammar;
}

class ToolGrammarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LlamaModelOptions o;
    o.path = testing::ModelPath("SmolLM2-135M-Instruct.Q4_1.gguf");
    o.context_size = 1024;
    o.threads = 2;
    auto m = LoadLlamaModel(o);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = new std::shared_ptr<Model>(*m);
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }

  // Whether an answer under grammar can begin with text.
  static bool Takes(const std::string& grammar, const std::string& text) {
    SamplingOptions sampling;
    sampling.temperature = 0;
    sampling.grammar = grammar;
    auto seq = (*model_)->Start({{"user", "Hi"}}, sampling);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() && (*seq)->Accept(text).ok();
  }

  static std::shared_ptr<Model>* model_;
};

std::shared_ptr<Model>* ToolGrammarTest::model_ = nullptr;

TEST_F(ToolGrammarTest, AutoTakesACallOrTextThatDoesNotStartWithABrace) {
  const std::string g = Grammar({{"tools", {kWeather, kTime}}});
  EXPECT_TRUE(Takes(g, kOneCall));
  EXPECT_TRUE(Takes(g, kTwoCalls));
  EXPECT_TRUE(Takes(g, "Paris is sunny today. {\"braces\": \"later are fine\"}"));
  EXPECT_FALSE(Takes(g, R"({"answer": "Paris"})"));
  EXPECT_FALSE(Takes(g, " Leading white space"));
  EXPECT_FALSE(Takes(g, R"({"tool_calls":[{"name":"get_news","arguments":{}}]})"));
}

TEST_F(ToolGrammarTest, RequiredTakesOnlyCallsWhoseArgumentsFitTheirTool) {
  const std::string g = Grammar({{"tools", {kWeather, kTime}}, {"tool_choice", "required"}});
  EXPECT_TRUE(Takes(g, kTwoCalls));
  EXPECT_FALSE(Takes(g, "Paris is sunny."));
  EXPECT_FALSE(Takes(g, R"({"tool_calls":[]})"));
  EXPECT_FALSE(Takes(g, R"({"tool_calls":[{"name":"get_weather","arguments":{"town":"Paris"}}]})"));
  // The $ref of get_time's own document, re-pointed inside the call schema.
  EXPECT_FALSE(Takes(g, R"({"tool_calls":[{"name":"get_time","arguments":{"zone":"PST"}}]})"));
  // The name comes first, as the system text shows it.
  EXPECT_FALSE(Takes(g, R"({"tool_calls":[{"arguments":{"city":"Paris"},"name":"get_weather"}]})"));
}

TEST_F(ToolGrammarTest, ANamedChoiceTakesThatToolOnly) {
  const std::string g = Grammar({{"tools", {kWeather, kTime}},
                                 {"tool_choice", {{"type", "function"}, {"function", {{"name", "get_time"}}}}}});
  EXPECT_TRUE(Takes(g, R"({"tool_calls":[{"name":"get_time","arguments":{"zone":"UTC"}}]})"));
  EXPECT_FALSE(Takes(g, kOneCall));
}

TEST_F(ToolGrammarTest, WithoutParallelCallsOneCallOnly) {
  const std::string g = Grammar({{"tools", {kWeather, kTime}}, {"tool_choice", "required"},
                                 {"parallel_tool_calls", false}});
  EXPECT_TRUE(Takes(g, kOneCall));
  EXPECT_FALSE(Takes(g, kTwoCalls));
}

TEST_F(ToolGrammarTest, TheTextGrammarRefusesWhatLooksLikeACall) {
  EXPECT_TRUE(Takes(TextGrammar(), "It is 18 C and sunny in Paris."));
  EXPECT_FALSE(Takes(TextGrammar(), kOneCall));
  EXPECT_FALSE(Takes(TextGrammar(), "\n{"));
}

TEST(ToolCallsTest, NoneAndNoToolsOfferNothing) {
  EXPECT_FALSE(Parse({{"tools", {kWeather}}, {"tool_choice", "none"}}).offered());
  EXPECT_FALSE(Parse(json::object()).offered());
  EXPECT_EQ(Parse({{"tools", {kWeather}}}).choice, ToolRequest::Choice::kAuto);
  EXPECT_EQ(Grammar({{"tools", {kWeather}}, {"tool_choice", "none"}}), "");
}

TEST(ToolCallsTest, AnAnswerThatIsACallIsReadBackInOpenAIsShape) {
  json calls = ReadToolCalls(kTwoCalls);
  ASSERT_TRUE(calls.is_array()) << calls;
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["type"], "function");
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_EQ(calls[0]["function"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(calls[1]["function"]["arguments"], R"({"zone":"CET"})");
  EXPECT_EQ(calls[0]["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_NE(calls[0]["id"], calls[1]["id"]);
  EXPECT_TRUE(ReadToolCalls("Paris is sunny.").is_null());
  EXPECT_TRUE(ReadToolCalls(R"({"tool_calls":[{"name":"get_weather","arguments":{"city":)").is_null());
  EXPECT_TRUE(ReadToolCalls(R"({"tool_calls":[]})").is_null());
}

TEST(ToolCallsTest, AnEarlierCallIsReplayedAsTheTextThatMakesIt) {
  json openai_calls = json::parse(R"([{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"b\": 1, \"a\": 2}"}}])");
  std::vector<std::pair<std::string, std::string>> names;
  std::string text;
  auto problem = AssistantCallsText(openai_calls, "messages[1].tool_calls", &names, &text);
  ASSERT_FALSE(problem) << problem->message;
  EXPECT_EQ(text, R"({"tool_calls":[{"name":"get_weather","arguments":{"city":"Paris","b":1,"a":2}}]})");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], std::make_pair(std::string("call_1"), std::string("get_weather")));
  EXPECT_EQ(ToolResultText("get_weather", "call_1", "18 C"),
            "The tool get_weather (call call_1) returned:\n18 C");
}

TEST(ToolCallsTest, TheToolsAreOfferedAfterTheRequestsOwnSystemText) {
  ToolRequest request = Parse({{"tools", {kWeather}}, {"tool_choice", "required"}});
  std::vector<ChatMessage> messages = {{"system", "Be brief."}, {"user", "Weather?"}};
  OfferTools(request, &messages);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].content, "Be brief.\n\n" + ToolsSystemText(request));
  const std::string text = ToolsSystemText(request);
  EXPECT_NE(text.find("- get_weather: The weather in a city\n"), std::string::npos) << text;
  EXPECT_NE(text.find(R"({"tool_calls":[{"name":"<tool name>","arguments":{<its arguments>}}]})"),
            std::string::npos) << text;
  EXPECT_NE(text.find("Call a tool now."), std::string::npos) << text;
  std::vector<ChatMessage> bare = {{"user", "Weather?"}};
  OfferTools(request, &bare);
  ASSERT_EQ(bare.size(), 2u);
  EXPECT_EQ(bare[0].role, "system");
}

TEST(HeldToolCallTest, AutoStreamsTextAndHoldsWhatStartsWithABrace) {
  ToolRequest request = Parse({{"tools", {kWeather}}});
  HeldToolCall text(request);
  EXPECT_EQ(text.Take("Paris "), "Paris ");
  EXPECT_EQ(text.Take("is sunny."), "is sunny.");
  HeldToolCall call(request);
  EXPECT_EQ(call.Take("{\"tool_"), "");
  EXPECT_EQ(call.Take("calls\":"), "");
  EXPECT_EQ(call.Rest(), "{\"tool_calls\":");
  HeldToolCall required(Parse({{"tools", {kWeather}}, {"tool_choice", "required"}}));
  EXPECT_EQ(required.Take("Anything"), "");
  HeldToolCall none(Parse({{"tools", {kWeather}}, {"tool_choice", "none"}}));
  EXPECT_EQ(none.Take("{\"a\":"), "{\"a\":");
}

}  // namespace
}  // namespace specfuse::server
