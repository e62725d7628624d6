// The ensemble's options as data: one row per field of EnsembleOptions, with its name in
// each front end (config file key, CLI flag, request field, evaluation setting), its range
// and its help. The config reader, the CLI, the server's request parser and the evaluation
// settings writer all derive their reading and writing from this table, and Validate
// checks against it, so an option is declared once and every front end takes the same
// values. Defaults are the struct's own: the value a row reads in EnsembleOptions{}.
// The table is immutable; any thread may read it.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "specfuse/ensemble_options.h"
#include "specfuse/status.h"

namespace specfuse {

// Where a row's value lives in EnsembleOptions. Its type decides how every front end reads
// the value: a flag or true/false, an integer (a seed takes any 64-bit pattern), a number,
// one name of a choice, or a list of strings.
using OptionField = std::variant<bool*, int*, uint64_t*, float*, double*, ScoreVariant*,
                                 WeightsMode*, std::vector<std::string>*>;

// A value as a front end found it, before it is checked and stored. std::monostate stands
// for anything else (an object, a date, an array holding a number): a type error.
using OptionValue = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string,
                                 std::vector<std::string>>;

enum class OptionKind { kBool, kInteger, kNumber, kChoice, kStrings };

// Who gave a value: requests to the server may be held to tighter bounds than the
// operator's own config file and flags (OptionSpec::request_max).
enum class OptionSource { kLocal, kRequest };

inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();

// The values a number or integer takes: min..max, min itself excluded when min_exclusive.
// An integer's bounds are also those of its type.
struct OptionRange {
  double min = -kUnbounded;
  double max = kUnbounded;
  bool min_exclusive = false;
};

struct OptionSpec {
  // The config file key: "segment_tokens" at the top level, "sampling.top_p" in the
  // [sampling] table. Validate's messages name options by it.
  const char* name;
  OptionField (*field)(EnsembleOptions&);
  const char* help;  // one phrase, without the default or the range (both are derived)
  OptionRange range = {};
  // Any negative value turns the option off (the anchor gates): the range text says so,
  // and the evaluation settings leave the option out while it is off.
  bool negative_is_off = false;
  // A request's own upper bound, below range.max, or for a list the most strings: OpenAI's
  // documented temperature range (0 to 2), and a bounded number of stop strings for the
  // per-round stop search of a shared server. kUnbounded: range.max alone.
  double request_max = kUnbounded;
  const char* flag = nullptr;     // the CLI flag ("--segment-tokens"); a bool gets --no-X too
  const char* request = nullptr;  // the request field: OpenAI's ("temperature") or the
                                  // specfuse object's ("specfuse.score"); nullptr: none
  // The key in an evaluation's results settings ("exit.epsilon" nests under "exit"), as
  // results files have always written it; nullptr: each evaluated method sets the option.
  const char* setting = nullptr;
};

// Every option of EnsembleOptions, in the order help and messages list them.
std::span<const OptionSpec> EnsembleOptionTable();
// The row whose name is `name`, or nullptr.
const OptionSpec* FindOption(std::string_view name);

OptionKind KindOf(const OptionSpec& spec);
// The names a choice takes ({"prob", "logprob", "logit"}); empty for other kinds.
std::span<const char* const> ChoicesOf(const OptionSpec& spec);

// The option's value in `options`: bool, int64_t (ints), uint64_t (the seed), double,
// std::string (a choice's name) or the list of strings.
OptionValue GetOption(const OptionSpec& spec, const EnsembleOptions& options);
// The value as a person writes it: "10", "0.6", "logit", "true", "a, b".
std::string FormatOption(const OptionSpec& spec, const EnsembleOptions& options);
// The default, formatted: FormatOption over EnsembleOptions{}.
std::string DefaultText(const OptionSpec& spec);
// What the option takes, as a phrase after "must be": "an integer", "a number",
// "true or false", "prob, logprob or logit", "a string or an array of strings".
std::string KindText(const OptionSpec& spec);
// The allowed values, as a phrase after "must be": "between 1 and 256", "at least 0",
// "greater than 0 and at most 1", "at most 100 (a negative value turns it off)"; for a
// list "at most 16 strings"; "" when any value of the kind is allowed.
std::string RangeText(const OptionSpec& spec, OptionSource source = OptionSource::kLocal);

// Checks `value` against the row and stores it in *options. On failure *options is
// unchanged and the message names the option as `shown` (the front end's name for it:
// "--top-p", "'specfuse.segment_tokens'", "sampling.top_p") and says what it takes:
// "--top-p must be greater than 0 and at most 1". A numeric value is checked as stored (a
// float member sees the rounded value); a string given for a list is a list of one; a
// seed takes any 64-bit integer, a negative one as its two's complement.
Status SetOption(const OptionSpec& spec, const OptionValue& value, const std::string& shown,
                 OptionSource source, EnsembleOptions* options);

// Reads a value from text as a person types it (a CLI argument): decimal integers, numbers
// as strtod reads them, a choice's name, "true"/"false"; for a list, one string. The
// message names the option as `shown`.
Result<OptionValue> ParseOptionText(const OptionSpec& spec, std::string_view text,
                                    const std::string& shown);

}  // namespace specfuse
