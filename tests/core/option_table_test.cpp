// The option table: one row per option, from which the config file, the CLI, requests and
// evaluation settings are read and written, and against which Validate checks.
#include "specfuse/option_table.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace specfuse {
namespace {

const OptionSpec& Row(const char* name) {
  const OptionSpec* spec = FindOption(name);
  EXPECT_NE(spec, nullptr) << name;
  return *spec;
}

// Stores value through the table; returns "" or the error message.
std::string Set(const char* name, const OptionValue& value, OptionSource source,
                EnsembleOptions* options) {
  Status s = SetOption(Row(name), value, std::string("<") + name + ">", source, options);
  return s.ok() ? "" : s.message();
}

std::string SetLocal(const char* name, const OptionValue& value) {
  EnsembleOptions o;
  return Set(name, value, OptionSource::kLocal, &o);
}

std::string SetRequest(const char* name, const OptionValue& value) {
  EnsembleOptions o;
  return Set(name, value, OptionSource::kRequest, &o);
}

TEST(OptionTable, EveryOptionHasOneNameInEachFrontEnd) {
  std::set<std::string> names, flags, requests, settings;
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_NE(std::string(spec.help), "") << spec.name;
    if (spec.flag) {
      EXPECT_EQ(std::string(spec.flag).rfind("--", 0), 0u) << spec.flag;
      EXPECT_TRUE(flags.insert(spec.flag).second) << spec.flag;
    }
    if (spec.request) EXPECT_TRUE(requests.insert(spec.request).second) << spec.request;
    if (spec.setting) EXPECT_TRUE(settings.insert(spec.setting).second) << spec.setting;
    EXPECT_EQ(FindOption(spec.name), &spec);
  }
  EXPECT_EQ(FindOption("no_such_option"), nullptr);
}

TEST(OptionTable, HoldsEveryOptionOfTheStructEachAtItsOwnField) {
  EXPECT_EQ(EnsembleOptionTable().size(), 19u);
  EnsembleOptions o;
  std::set<const void*> fields;
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    const void* at = std::visit([](auto* p) { return static_cast<const void*>(p); }, spec.field(o));
    EXPECT_TRUE(fields.insert(at).second) << spec.name;
    EXPECT_GE(static_cast<const char*>(at), reinterpret_cast<const char*>(&o));
    EXPECT_LT(static_cast<const char*>(at), reinterpret_cast<const char*>(&o + 1));
  }
  EXPECT_EQ(std::get<int*>(Row("segment_tokens").field(o)), &o.segment_tokens);
  EXPECT_EQ(std::get<float*>(Row("sampling.top_p").field(o)), &o.sampling.top_p);
  EXPECT_EQ(std::get<int*>(Row("exit.min_active").field(o)), &o.exit.min_active);
}

TEST(OptionTable, EveryDefaultPassesItsOwnRangeInEveryFrontEnd) {
  const EnsembleOptions defaults;
  EXPECT_TRUE(Validate(defaults).ok());
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    for (OptionSource source : {OptionSource::kLocal, OptionSource::kRequest}) {
      EnsembleOptions o;
      Status s = SetOption(spec, GetOption(spec, defaults), spec.name, source, &o);
      EXPECT_TRUE(s.ok()) << s.message();
    }
  }
}

// A value just outside each finite bound, stored straight into the struct: Validate
// refuses it naming the option, and accepts the bound itself unless it is excluded.
TEST(OptionTable, ValidateRefusesWhatTheTableRefusesNamingTheOption) {
  int checked = 0;
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    if (KindOf(spec) != OptionKind::kInteger && KindOf(spec) != OptionKind::kNumber) continue;
    const double step = KindOf(spec) == OptionKind::kInteger ? 1 : 0.5;
    auto validate_at = [&](double v) {
      EnsembleOptions o;
      std::visit(
          [v](auto* p) {
            using T = std::remove_pointer_t<decltype(p)>;
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) *p = static_cast<T>(v);
          },
          spec.field(o));
      return Validate(o);
    };
    if (std::isfinite(spec.range.min)) {
      Status below = validate_at(spec.range.min - step);
      EXPECT_FALSE(below.ok()) << spec.name;
      EXPECT_EQ(below.message().rfind(std::string(spec.name) + " must be ", 0), 0u) << below.message();
      EXPECT_EQ(validate_at(spec.range.min).ok(), !spec.range.min_exclusive) << spec.name;
      ++checked;
    }
    if (std::isfinite(spec.range.max)) {
      EXPECT_FALSE(validate_at(spec.range.max + step).ok()) << spec.name;
      EXPECT_TRUE(validate_at(spec.range.max).ok()) << spec.name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 15);
}

TEST(OptionTable, ValidateRefusesANumberThatIsNotFinite) {
  EnsembleOptions o;
  o.hedge_eta0 = std::nan("");
  EXPECT_EQ(Validate(o).message(), "hedge_eta0 must be a finite number");
  o = {};
  o.sampling.temperature = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Validate(o).message(), "sampling.temperature must be a finite number");
  o = {};
  o.stop = {"###", ""};
  EXPECT_EQ(Validate(o).message(), "stop must not hold an empty string");
}

TEST(OptionTable, SegmentTokensAbove256AreRefusedByNameFromEverySource) {
  EXPECT_EQ(SetRequest("segment_tokens", int64_t{300}), "<segment_tokens> must be between 1 and 256");
  EXPECT_EQ(SetLocal("segment_tokens", int64_t{300}), "<segment_tokens> must be between 1 and 256");
  EXPECT_EQ(SetRequest("segment_tokens", int64_t{256}), "");
  EXPECT_EQ(SetRequest("segment_tokens", int64_t{0}), "<segment_tokens> must be between 1 and 256");
}

TEST(OptionTable, ARequestIsHeldToOpenAIsTemperatureRangeAndSixteenStopStrings) {
  EXPECT_EQ(SetLocal("sampling.temperature", 7.0), "");
  EXPECT_EQ(SetRequest("sampling.temperature", 7.0), "<sampling.temperature> must be between 0 and 2");
  EXPECT_EQ(SetRequest("sampling.temperature", 2.0), "");
  EXPECT_EQ(SetRequest("sampling.temperature", -0.1), "<sampling.temperature> must be between 0 and 2");
  const std::vector<std::string> seventeen(17, "x");
  EXPECT_EQ(SetLocal("stop", seventeen), "");
  EXPECT_EQ(SetRequest("stop", seventeen), "<stop> holds at most 16 strings");
  EXPECT_EQ(SetRequest("stop", std::vector<std::string>(16, "x")), "");
}

TEST(OptionTable, AnyNegativeAnchorMarginTurnsTheGateOffFromEverySource) {
  for (const char* name : {"anchor_margin", "anchor_token_margin"}) {
    EXPECT_EQ(SetLocal(name, -5.0), "");
    EXPECT_EQ(SetRequest(name, -5.0), "");
    EXPECT_EQ(SetRequest(name, 100.0), "");
    EXPECT_EQ(SetRequest(name, 500.0), std::string("<") + name +
                                            "> must be at most 100 (a negative value turns it off)");
  }
}

TEST(OptionTable, ARefusedValueLeavesTheOptionsAsTheyWere) {
  EnsembleOptions o;
  o.sampling.top_p = 0.5f;
  EXPECT_NE(Set("sampling.top_p", 1.5, OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.sampling.top_p, 0.5f);
  EXPECT_NE(Set("score", std::string("best"), OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.score, ScoreVariant::kLogit);
}

TEST(OptionTable, AValueOfTheWrongKindIsRefusedSayingWhatTheOptionTakes) {
  EXPECT_EQ(SetLocal("segment_tokens", std::string("ten")), "<segment_tokens> must be an integer");
  EXPECT_EQ(SetLocal("segment_tokens", 10.0), "<segment_tokens> must be an integer");
  EXPECT_EQ(SetLocal("max_tokens", std::monostate{}), "<max_tokens> must be an integer");
  EXPECT_EQ(SetLocal("sampling.top_p", true), "<sampling.top_p> must be a number");
  EXPECT_EQ(SetLocal("exit.enabled", int64_t{1}), "<exit.enabled> must be true or false");
  EXPECT_EQ(SetLocal("score", int64_t{1}), "<score> must be prob, logprob or logit");
  EXPECT_EQ(SetLocal("score", std::string("best")),
            "<score>: unknown score variant 'best'; use prob, logprob or logit");
  EXPECT_EQ(SetLocal("weights", std::string("heavy")),
            "<weights>: unknown weights mode 'heavy'; use uniform or hedge");
  EXPECT_EQ(SetLocal("stop", int64_t{3}), "<stop> must be a string or an array of strings");
}

TEST(OptionTable, IntegersAreStoredExactlyAndNeverWrapIntoRange) {
  EnsembleOptions o;
  EXPECT_EQ(Set("max_tokens", int64_t{1} << 20, OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.max_tokens, 1 << 20);
  EXPECT_EQ(SetLocal("max_tokens", (int64_t{1} << 20) + 1), "<max_tokens> must be between 1 and 1048576");
  EXPECT_EQ(SetLocal("segment_tokens", int64_t{4294967297}), "<segment_tokens> must be between 1 and 256");
  EXPECT_EQ(SetLocal("max_tokens", std::numeric_limits<uint64_t>::max()),
            "<max_tokens> must be between 1 and 1048576");
  EXPECT_EQ(SetLocal("sampling.top_k", int64_t{1} << 40), "<sampling.top_k> must be at most 2147483647");
  EXPECT_EQ(SetLocal("sampling.top_k", int64_t{-1}), "<sampling.top_k> must be at least 0");
  EXPECT_EQ(Set("hedge_eta0", int64_t{2}, OptionSource::kLocal, &o), "");  // an integer is a number
  EXPECT_EQ(o.hedge_eta0, 2.0);
}

TEST(OptionTable, ASeedTakesAny64BitIntegerANegativeOneAsItsTwosComplement) {
  EnsembleOptions o;
  EXPECT_EQ(Set("sampling.seed", int64_t{-1}, OptionSource::kRequest, &o), "");
  EXPECT_EQ(o.sampling.seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(Set("sampling.seed", uint64_t{18446744073709551614u}, OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.sampling.seed, 18446744073709551614u);
  EXPECT_EQ(SetLocal("sampling.seed", 1.5), "<sampling.seed> must be an integer");
}

TEST(OptionTable, AFloatOptionIsCheckedAsStored) {
  // 1e-50 is above 0, but as a float it is 0, which top_p does not take.
  EXPECT_EQ(SetLocal("sampling.top_p", 1e-50), "<sampling.top_p> must be greater than 0 and at most 1");
  EXPECT_EQ(SetLocal("sampling.temperature", 1e300), "<sampling.temperature> must be a finite number");
  EXPECT_EQ(SetLocal("sampling.temperature", std::nan("")), "<sampling.temperature> must be a finite number");
  EnsembleOptions o;
  EXPECT_EQ(Set("sampling.temperature", 0.6, OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.sampling.temperature, 0.6f);
}

TEST(OptionTable, AStringForAListIsAListOfOneAndEmptyStringsAreRefused) {
  EnsembleOptions o;
  EXPECT_EQ(Set("stop", std::string("###"), OptionSource::kLocal, &o), "");
  EXPECT_EQ(o.stop, std::vector<std::string>{"###"});
  EXPECT_EQ(Set("stop", std::vector<std::string>{}, OptionSource::kLocal, &o), "");
  EXPECT_TRUE(o.stop.empty());
  EXPECT_EQ(SetLocal("stop", std::vector<std::string>{"a", ""}), "<stop> must not hold an empty string");
}

TEST(OptionTable, TextIsReadAsAPersonTypesIt) {
  auto parse = [](const char* name, const char* text) {
    return ParseOptionText(Row(name), text, "--flag");
  };
  EXPECT_EQ(std::get<int64_t>(*parse("segment_tokens", "12")), 12);
  EXPECT_EQ(std::get<int64_t>(*parse("sampling.seed", "-1")), -1);
  EXPECT_EQ(std::get<uint64_t>(*parse("sampling.seed", "18446744073709551615")),
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(std::get<double>(*parse("anchor_margin", "-1")), -1.0);
  EXPECT_EQ(std::get<double>(*parse("sampling.top_p", ".5")), 0.5);
  EXPECT_EQ(std::get<double>(*parse("hedge_eta0", "1e-3")), 1e-3);
  EXPECT_EQ(std::get<bool>(*parse("exit.enabled", "false")), false);
  EXPECT_EQ(std::get<std::string>(*parse("score", "prob")), "prob");
  EXPECT_EQ(std::get<std::vector<std::string>>(*parse("stop", "a b")), std::vector<std::string>{"a b"});
  EXPECT_EQ(parse("segment_tokens", "ten").status().message(), "--flag must be an integer, not 'ten'");
  EXPECT_EQ(parse("segment_tokens", "1.5").status().message(), "--flag must be an integer, not '1.5'");
  EXPECT_EQ(parse("sampling.top_p", "").status().message(), "--flag must be a number, not ''");
  EXPECT_EQ(parse("sampling.top_p", " 1").status().message(), "--flag must be a number, not ' 1'");
  EXPECT_EQ(parse("sampling.top_p", "0.5x").status().message(), "--flag must be a number, not '0.5x'");
}

TEST(OptionTable, DefaultsAreTheStructsOwnFormattedAsAPersonWritesThem) {
  EXPECT_EQ(DefaultText(Row("segment_tokens")), "10");
  EXPECT_EQ(DefaultText(Row("max_tokens")), "256");
  EXPECT_EQ(DefaultText(Row("sampling.temperature")), "0.6");
  EXPECT_EQ(DefaultText(Row("sampling.top_p")), "0.9");
  EXPECT_EQ(DefaultText(Row("sampling.seed")), "42");
  EXPECT_EQ(DefaultText(Row("score")), "logit");
  EXPECT_EQ(DefaultText(Row("weights")), "uniform");
  EXPECT_EQ(DefaultText(Row("anchor_token_margin")), "-1");
  EXPECT_EQ(DefaultText(Row("exit.enabled")), "true");
  EXPECT_EQ(DefaultText(Row("stop")), "");
  EnsembleOptions o;
  o.stop = {"a", "b"};
  EXPECT_EQ(FormatOption(Row("stop"), o), "a, b");
}

TEST(OptionTable, RangesAndKindsReadAsPhrasesAfterMustBe) {
  EXPECT_EQ(RangeText(Row("segment_tokens")), "between 1 and 256");
  EXPECT_EQ(RangeText(Row("sampling.top_p")), "greater than 0 and at most 1");
  EXPECT_EQ(RangeText(Row("sampling.temperature")), "at least 0");
  EXPECT_EQ(RangeText(Row("sampling.temperature"), OptionSource::kRequest), "between 0 and 2");
  EXPECT_EQ(RangeText(Row("sampling.top_k")), "at least 0");
  EXPECT_EQ(RangeText(Row("exit.temperature")), "greater than 0");
  EXPECT_EQ(RangeText(Row("anchor_margin")), "at most 100 (a negative value turns it off)");
  EXPECT_EQ(RangeText(Row("stop")), "");
  EXPECT_EQ(RangeText(Row("stop"), OptionSource::kRequest), "at most 16 strings");
  EXPECT_EQ(RangeText(Row("sampling.seed")), "");
  EXPECT_EQ(RangeText(Row("score")), "");
  EXPECT_EQ(KindText(Row("weights")), "uniform or hedge");
  EXPECT_EQ(KindOf(Row("sampling.seed")), OptionKind::kInteger);
  EXPECT_EQ(KindOf(Row("exit.epsilon")), OptionKind::kNumber);
  EXPECT_EQ(ChoicesOf(Row("score")).size(), 3u);
  EXPECT_TRUE(ChoicesOf(Row("stop")).empty());
}

}  // namespace
}  // namespace specfuse
