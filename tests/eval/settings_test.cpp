// The options a results file records in every line's settings: a run resumes only over
// lines whose settings equal its own, so they are written exactly as they always were.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "eval/results.h"

namespace specfuse::eval {
namespace {

TEST(OptionSettings, TheDefaultsAreRecordedAsResultsFilesAlwaysWroteThem) {
  // Floats as the float members hold them; the weights and exit.enabled are the methods'
  // own; anchor_token_margin is off (-1) and left out.
  const nlohmann::json expected = {
      {"segment_tokens", 10}, {"max_tokens", 256}, {"temperature", 0.6f}, {"top_p", 0.9f},
      {"top_k", 0}, {"seed", 42u}, {"score", "logit"}, {"hedge_eta0", 1.0},
      {"size_prior", 0.0}, {"anchor_margin", 0.0}, {"stop", nlohmann::json::array()},
      {"exit", {{"warmup_rounds", 3}, {"temperature", 0.5}, {"entropy_threshold", 0.75},
                {"epsilon", 0.5}, {"min_active", 1}}}};
  EXPECT_EQ(OptionSettings(EnsembleOptions{}), expected);
  EXPECT_EQ(OptionSettings(EnsembleOptions{}).dump(), expected.dump());
}

TEST(OptionSettings, AnAnchorGateThatIsOffIsLeftOutAndOneThatIsOnIsRecorded) {
  EnsembleOptions o;
  o.anchor_margin = -1;
  o.anchor_token_margin = 0.5;
  o.stop = {"###"};
  o.sampling.seed = 18446744073709551615u;
  const nlohmann::json j = OptionSettings(o);
  EXPECT_FALSE(j.contains("anchor_margin"));
  EXPECT_EQ(j["anchor_token_margin"], 0.5);
  EXPECT_EQ(j["stop"], nlohmann::json::array({"###"}));
  EXPECT_EQ(j["seed"].get<uint64_t>(), 18446744073709551615u);
}

TEST(OptionSettings, ASettingsLineReadBackFromAFileEqualsTheOneWritten) {
  const nlohmann::json written = OptionSettings(EnsembleOptions{});
  EXPECT_EQ(nlohmann::json::parse(written.dump()), written);
  // The defaults as a results file written before the option table holds them (the form
  // of eval/results/levers-h200/default.jsonl: sorted keys, floats as the float members).
  const nlohmann::json old = nlohmann::json::parse(
      R"({"exit":{"entropy_threshold":0.75,"epsilon":0.5,"min_active":1,"temperature":0.5,)"
      R"("warmup_rounds":3},"hedge_eta0":1.0,"max_tokens":256,"score":"logit","seed":42,)"
      R"("segment_tokens":10,"stop":[],"temperature":0.6000000238418579,"top_k":0,)"
      R"("top_p":0.8999999761581421,"size_prior":0.0,"anchor_margin":0.0})");
  EXPECT_EQ(old, written);
}

}  // namespace
}  // namespace specfuse::eval
