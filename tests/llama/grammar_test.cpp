// Structured output in the llama.cpp backend and the engine: JSON Schema to grammar, drafts
// under the grammar, and segments of one member's drafts advancing another member's grammar.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "specfuse/engine.h"
#include "specfuse/json_schema_grammar.h"
#include "specfuse/llama_backend.h"
#include "test_models.h"

namespace specfuse {
namespace {

using nlohmann::json;

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 20},
    "age": {"type": "integer"},
    "color": {"enum": ["red", "green", "blue"]}
  },
  "required": ["name", "age", "color"],
  "additionalProperties": false
})";

std::string PersonGrammar() {
  auto g = JsonSchemaToGrammar(kPersonSchema, true);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? *g : "";
}

void ExpectPerson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  ASSERT_TRUE(j.is_object()) << text;
  ASSERT_EQ(j.size(), 3u) << text;
  EXPECT_TRUE(j["name"].is_string()) << text;
  EXPECT_LE(j["name"].get<std::string>().size(), 20u) << text;
  EXPECT_TRUE(j["age"].is_number_integer()) << text;
  EXPECT_TRUE(j["color"] == "red" || j["color"] == "green" || j["color"] == "blue") << text;
}

std::shared_ptr<Model> Load(const char* file) {
  LlamaModelOptions o;
  o.path = testing::ModelPath(file);
  o.context_size = 1024;
  o.threads = 2;
  auto m = LoadLlamaModel(o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? *m : nullptr;
}

SamplingOptions Constrained(const std::string& grammar) {
  SamplingOptions s;
  s.temperature = 0.0f;
  s.grammar = grammar;
  return s;
}

std::vector<ChatMessage> Ask() {
  return {{"user", "Describe a person as JSON with a name, an age and a favourite colour."}};
}

// Drafts and accepts its own drafts until the grammar ends the answer (or 40 rounds).
std::string DraftAlone(Sequence& seq) {
  std::string text;
  for (int round = 0; round < 40; ++round) {
    auto d = seq.DraftTokens(8);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    if (!d.ok()) break;
    EXPECT_TRUE(seq.Accept(d->Text()).ok());
    text += d->Text();
    if (d->end_of_generation) break;
  }
  return text;
}

TEST(JsonSchemaGrammarTest, ASchemaBecomesAGrammarWithOneRulePerProperty) {
  std::string g = PersonGrammar();
  EXPECT_NE(g.find("root ::= \"{\""), std::string::npos) << g;
  EXPECT_NE(g.find("\"\\\"red\\\"\""), std::string::npos) << g;
  EXPECT_NE(g.find("name-kv ::="), std::string::npos) << g;
}

TEST(JsonSchemaGrammarTest, PropertiesKeepTheOrderTheSchemaWritesThem) {
  auto g = JsonSchemaToGrammar(R"({"type": "object", "properties": {
      "zebra": {"type": "integer"}, "apple": {"type": "integer"}},
      "required": ["zebra", "apple"], "additionalProperties": false})", true);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const size_t root = g->find("root ::=");
  ASSERT_NE(root, std::string::npos) << *g;
  const std::string rule = g->substr(root, g->find('\n', root) - root);
  ASSERT_NE(rule.find("zebra-kv"), std::string::npos) << rule;
  EXPECT_LT(rule.find("zebra-kv"), rule.find("apple-kv")) << rule;
}

TEST(JsonSchemaGrammarTest, JsonModeIsTheConvertersObjectGrammar) {
  auto object = JsonSchemaToGrammar(R"({"type": "object"})", true);
  ASSERT_TRUE(object.ok());
  EXPECT_EQ(JsonObjectGrammar(), *object);
  EXPECT_NE(JsonObjectGrammar().find("root ::= object"), std::string::npos) << JsonObjectGrammar();
}

TEST(JsonSchemaGrammarTest, ProblemsAreRefusedWithWhatToFix) {
  auto not_json = JsonSchemaToGrammar("{\"type\": ", true);
  EXPECT_EQ(not_json.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(not_json.status().message(), "the JSON schema is not valid JSON");

  auto remote_ref = JsonSchemaToGrammar(R"({"$ref": "https://example.com/s.json"})", true);
  EXPECT_EQ(remote_ref.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(remote_ref.status().message().find("https://example.com/s.json"), std::string::npos)
      << remote_ref.status().message();

  auto array = JsonSchemaToGrammar("[1, 2]", true);
  EXPECT_EQ(array.status().message(), "the JSON schema must be an object (or true/false)");

  std::string deep = R"({"type": "string"})";
  for (int i = 0; i < 70; ++i) deep = R"({"type": "array", "items": )" + deep + "}";
  auto too_deep = JsonSchemaToGrammar(deep, true);
  EXPECT_EQ(too_deep.status().message(), "the JSON schema nests deeper than 64 levels");
}

TEST(JsonSchemaGrammarTest, APatternTheGrammarCannotExpressIsRefusedOnlyWhenStrict) {
  const char* lookahead = R"({"type": "string", "pattern": "^(?=a)[a-z]+$"})";
  auto strict = JsonSchemaToGrammar(lookahead, true);
  EXPECT_EQ(strict.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(strict.status().message().find("the pattern '^(?=a)[a-z]+$'"), std::string::npos)
      << strict.status().message();
  EXPECT_TRUE(JsonSchemaToGrammar(lookahead, false).ok());
  EXPECT_TRUE(JsonSchemaToGrammar(R"({"type": "string", "pattern": "^[a-z]+$"})", true).ok());
}

class GrammarDraftTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    smol_ = Load(testing::kSmol);
    qwen_ = Load(testing::kQwen);
  }
  static void TearDownTestSuite() {
    smol_.reset();
    qwen_.reset();
  }
  static std::shared_ptr<Model> smol_, qwen_;
};
std::shared_ptr<Model> GrammarDraftTest::smol_;
std::shared_ptr<Model> GrammarDraftTest::qwen_;

TEST_F(GrammarDraftTest, AModelDraftingAloneUnderTheGrammarWritesValidJson) {
  ASSERT_TRUE(smol_ && qwen_);
  for (const auto& model : {smol_, qwen_}) {
    auto seq = model->Start(Ask(), Constrained(PersonGrammar()));
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    ExpectPerson(DraftAlone(**seq));
  }
}

TEST_F(GrammarDraftTest, ADraftThatIsNotAcceptedLeavesTheGrammarWhereItWas) {
  ASSERT_TRUE(smol_);
  auto seq = smol_->Start(Ask(), Constrained(PersonGrammar()));
  ASSERT_TRUE(seq.ok());
  auto first = (*seq)->DraftTokens(6);
  auto again = (*seq)->DraftTokens(6);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->Text(), again->Text());
  EXPECT_EQ(first->Text().substr(0, 1), "{");
}

TEST_F(GrammarDraftTest, TextOutsideTheGrammarIsRefusedAndTheSequenceGoesOn) {
  ASSERT_TRUE(smol_);
  auto seq = smol_->Start(Ask(), Constrained(PersonGrammar()));
  ASSERT_TRUE(seq.ok());
  const int before = (*seq)->ContextTokens();
  Status s = (*seq)->Accept("Sure! Here is");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cannot take the accepted segment \"Sure! Here is\" under the "
                             "answer's grammar (response_format or tools)"),
            std::string::npos)
      << s.message();
  EXPECT_EQ((*seq)->ContextTokens(), before);
  ExpectPerson(DraftAlone(**seq));
}

TEST_F(GrammarDraftTest, OneModelsSegmentsAdvanceTheOtherModelsGrammar) {
  ASSERT_TRUE(smol_ && qwen_);
  auto a = smol_->Start(Ask(), Constrained(PersonGrammar()));
  auto b = qwen_->Start(Ask(), Constrained(PersonGrammar()));
  ASSERT_TRUE(a.ok() && b.ok());
  std::string text;
  bool ended = false;
  for (int round = 0; round < 40 && !ended; ++round) {
    Sequence& drafter = round % 2 == 0 ? **a : **b;  // the two take turns
    auto d = drafter.DraftTokens(5);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE((*a)->Accept(d->Text()).ok()) << text << "|" << d->Text();
    ASSERT_TRUE((*b)->Accept(d->Text()).ok()) << text << "|" << d->Text();
    text += d->Text();
    ended = d->end_of_generation;
  }
  EXPECT_TRUE(ended) << text;
  ExpectPerson(text);
  // Both grammars are complete: neither model may write more.
  for (Sequence* s : {a->get(), b->get()}) {
    auto more = s->DraftTokens(5);
    ASSERT_TRUE(more.ok());
    EXPECT_TRUE(more->tokens.empty()) << more->Text();
    EXPECT_TRUE(more->end_of_generation);
  }
}

TEST_F(GrammarDraftTest, AGrammarThatDoesNotParseIsRefusedAtStart) {
  ASSERT_TRUE(smol_);
  auto seq = smol_->Start(Ask(), Constrained("root ::= (\"a\""));
  EXPECT_EQ(seq.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(seq.status().message(), "the grammar does not parse as GBNF with a rule named 'root'");
}

TEST_F(GrammarDraftTest, TheEnsembleAnswersInsideTheSchema) {
  ASSERT_TRUE(smol_ && qwen_);
  EnsembleOptions o;
  o.sampling = Constrained(PersonGrammar());
  o.segment_tokens = 6;
  o.max_tokens = 120;
  for (bool exit : {false, true}) {
    o.exit.enabled = exit;
    Conversation c({{smol_}, {qwen_}}, o);
    auto answer = c.Reply(Ask());
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(answer->summary.finish_reason, "stop") << answer->text;
    ExpectPerson(answer->text);
    for (const auto& r : answer->rounds) EXPECT_TRUE(r.failed.empty()) << r.failed[0];
  }
}

}  // namespace
}  // namespace specfuse
