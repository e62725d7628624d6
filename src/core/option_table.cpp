#include "specfuse/option_table.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace specfuse {

namespace {

// Indexed by the enums' values.
constexpr const char* kScoreVariantNames[] = {"prob", "logprob", "logit"};
constexpr const char* kWeightsModeNames[] = {"uniform", "hedge"};

// "a, b or c"
std::string Alternatives(std::span<const char* const> names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

template <typename Enum>
Result<Enum> ParseName(std::span<const char* const> names, const std::string& name,
                       const char* what) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
  }
  return Status::Error(ErrorCode::kInvalidArgument,
                       "unknown " + std::string(what) + " '" + name + "'; use " + Alternatives(names));
}

template <typename Enum>
const char* NameOf(std::span<const char* const> names, Enum value) {
  const auto i = static_cast<size_t>(value);
  return i < names.size() ? names[i] : "?";
}

// A row's field: the member reached from EnsembleOptions through Path, one pointer to
// member after another (At<&E::sampling, &S::top_p> is options.sampling.top_p).
template <auto... Path>
OptionField At(EnsembleOptions& o) {
  return &(o .* ... .* Path);
}

using E = EnsembleOptions;
using S = SamplingOptions;
using X = ExitOptions;

constexpr OptionSpec kTable[] = {
    {.name = "segment_tokens", .field = At<&E::segment_tokens>, .help = "Tokens per draft (L)",
     .range = {1, 256}, .flag = "--segment-tokens", .request = "specfuse.segment_tokens",
     .setting = "segment_tokens"},
    // 2^20: beyond any member's context; a larger value is a mistake, not a longer answer.
    {.name = "max_tokens", .field = At<&E::max_tokens>,
     .help = "Answer length limit, in the winning drafters' tokens", .range = {1, 1 << 20},
     .flag = "--max-tokens", .request = "max_tokens", .setting = "max_tokens"},
    {.name = "sampling.temperature", .field = At<&E::sampling, &S::temperature>,
     .help = "Sampling temperature (0: greedy)", .range = {.min = 0}, .request_max = 2,
     .flag = "--temperature", .request = "temperature", .setting = "temperature"},
    {.name = "sampling.top_p", .field = At<&E::sampling, &S::top_p>, .help = "Nucleus sampling",
     .range = {.min = 0, .max = 1, .min_exclusive = true}, .flag = "--top-p", .request = "top_p",
     .setting = "top_p"},
    {.name = "sampling.top_k", .field = At<&E::sampling, &S::top_k>,
     .help = "Top-k sampling (0: off)", .range = {.min = 0}, .flag = "--top-k",
     .setting = "top_k"},
    {.name = "sampling.seed", .field = At<&E::sampling, &S::seed>, .help = "Sampling seed",
     .flag = "--seed", .request = "seed", .setting = "seed"},
    {.name = "score", .field = At<&E::score>, .help = "Verifier score", .flag = "--score",
     .request = "specfuse.score", .setting = "score"},
    // Each evaluated method sets the weights and exit itself (specfuse-hedge-noexit, ...).
    {.name = "weights", .field = At<&E::weights>, .help = "Verifier weights", .flag = "--weights",
     .request = "specfuse.weights"},
    {.name = "hedge_eta0", .field = At<&E::hedge_eta0>,
     .help = "Hedge learning rate: eta_t = eta0 * sqrt(1/K) / t", .range = {.min = 0},
     .setting = "hedge_eta0"},
    {.name = "size_prior", .field = At<&E::size_prior>,
     .help = "Verifier weights start proportional to parameters^P (0: equal)",
     .range = {0, 8}, .flag = "--size-prior", .setting = "size_prior"},
    {.name = "anchor_margin", .field = At<&E::anchor_margin>,
     .help = "Anchor gate: a candidate wins only within this many nats of the anchor "
             "verifier's favourite",
     .range = {.max = 100}, .negative_is_off = true, .flag = "--anchor-margin",
     .request = "specfuse.anchor_margin", .setting = "anchor_margin"},
    {.name = "anchor_token_margin", .field = At<&E::anchor_token_margin>,
     .help = "Anchor token gate: no token of a winner may be more than this many nats below "
             "the anchor verifier's favourite token",
     .range = {.max = 100}, .negative_is_off = true, .flag = "--anchor-token-margin",
     .request = "specfuse.anchor_token_margin", .setting = "anchor_token_margin"},
    {.name = "exit.enabled", .field = At<&E::exit, &X::enabled>, .help = "Model exit",
     .flag = "--exit", .request = "specfuse.exit"},
    {.name = "stop", .field = At<&E::stop>,
     .help = "Stop strings: the answer ends before the first of them",
     .request_max = 16, .flag = "--stop", .request = "stop", .setting = "stop"},
    {.name = "exit.warmup_rounds", .field = At<&E::exit, &X::warmup_rounds>,
     .help = "Rounds before the first exit test", .range = {.min = 0},
     .setting = "exit.warmup_rounds"},
    {.name = "exit.temperature", .field = At<&E::exit, &X::temperature>,
     .help = "Temperature of the softmax over the drafters' cumulative quality",
     .range = {.min = 0, .min_exclusive = true}, .setting = "exit.temperature"},
    {.name = "exit.entropy_threshold", .field = At<&E::exit, &X::entropy_threshold>,
     .help = "Drafters exit only while the normalized entropy is below this",
     .range = {0, 1}, .setting = "exit.entropy_threshold"},
    {.name = "exit.epsilon", .field = At<&E::exit, &X::epsilon>,
     .help = "A drafter exits when its share is below epsilon / active drafters",
     .range = {.min = 0}, .setting = "exit.epsilon"},
    {.name = "exit.min_active", .field = At<&E::exit, &X::min_active>,
     .help = "Drafters that always stay", .range = {.min = 1}, .setting = "exit.min_active"},
};

// The struct's own defaults; rows read their kind and default here.
const EnsembleOptions& Defaults() {
  static const EnsembleOptions defaults;
  return defaults;
}

// A const row reads through the same accessor; nothing is written through it.
OptionField FieldOf(const OptionSpec& spec, const EnsembleOptions& options) {
  return spec.field(const_cast<EnsembleOptions&>(options));
}

template <typename T>
std::string ShortestText(T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// The bounds a value is checked against: the row's, and a request's tighter maximum.
OptionRange BoundsOf(const OptionSpec& spec, OptionSource source) {
  OptionRange b = spec.range;
  if (source == OptionSource::kRequest) b.max = std::min(b.max, spec.request_max);
  return b;
}

Status Bad(std::string message) { return Status::Error(ErrorCode::kInvalidArgument, std::move(message)); }

// Checks a value, converts it to the field's type and stores it; one operator per type of
// field. `shown` names the option in messages.
class Store {
 public:
  Store(const OptionSpec& spec, const OptionValue& value, const std::string& shown,
        OptionSource source)
      : spec_(spec), value_(value), shown_(shown), source_(source) {}

  Status operator()(bool* out) const {
    const bool* b = std::get_if<bool>(&value_);
    if (!b) return TypeError();
    *out = *b;
    return Status::Ok();
  }
  Status operator()(int* out) const {
    int64_t v = 0;
    if (const int64_t* i = std::get_if<int64_t>(&value_)) v = *i;
    else if (const uint64_t* u = std::get_if<uint64_t>(&value_)) {
      v = static_cast<int64_t>(std::min<uint64_t>(*u, std::numeric_limits<int64_t>::max()));
    } else return TypeError();
    if (Status s = CheckRange(static_cast<double>(v)); !s.ok()) return s;
    // Where the row sets no bound, the int's own: a value is never wrapped into range.
    constexpr int64_t kMin = std::numeric_limits<int>::min(), kMax = std::numeric_limits<int>::max();
    if (v < kMin || v > kMax) {
      return Bad(shown_ + " must be " + (v < kMin ? "at least " + std::to_string(kMin)
                                                   : "at most " + std::to_string(kMax)));
    }
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  Status operator()(uint64_t* out) const {  // a seed: any 64-bit pattern
    if (const int64_t* i = std::get_if<int64_t>(&value_)) *out = static_cast<uint64_t>(*i);
    else if (const uint64_t* u = std::get_if<uint64_t>(&value_)) *out = *u;
    else return TypeError();
    return Status::Ok();
  }
  Status operator()(float* out) const { return StoreNumber(out); }
  Status operator()(double* out) const { return StoreNumber(out); }
  Status operator()(ScoreVariant* out) const { return StoreChoice(out, ParseScoreVariant); }
  Status operator()(WeightsMode* out) const { return StoreChoice(out, ParseWeightsMode); }
  Status operator()(std::vector<std::string>* out) const {
    std::vector<std::string> list;
    if (const std::string* one = std::get_if<std::string>(&value_)) list = {*one};
    else if (const auto* many = std::get_if<std::vector<std::string>>(&value_)) list = *many;
    else return TypeError();
    if (static_cast<double>(list.size()) > BoundsOf(spec_, source_).max) {
      return Bad(shown_ + " holds " + RangeText(spec_, source_));
    }
    for (const auto& s : list) {
      if (s.empty()) return Bad(shown_ + " must not hold an empty string");
    }
    *out = std::move(list);
    return Status::Ok();
  }

 private:
  Status TypeError() const { return Bad(shown_ + " must be " + KindText(spec_)); }

  Status CheckRange(double v) const {
    if (!std::isfinite(v)) return Bad(shown_ + " must be a finite number");
    const OptionRange b = BoundsOf(spec_, source_);
    const bool low = b.min_exclusive ? !(v > b.min) : !(v >= b.min);
    if (low || !(v <= b.max)) return Bad(shown_ + " must be " + RangeText(spec_, source_));
    return Status::Ok();
  }

  template <typename T>
  Status StoreNumber(T* out) const {
    double d = 0;
    if (const double* x = std::get_if<double>(&value_)) d = *x;
    else if (const int64_t* i = std::get_if<int64_t>(&value_)) d = static_cast<double>(*i);
    else if (const uint64_t* u = std::get_if<uint64_t>(&value_)) d = static_cast<double>(*u);
    else return TypeError();
    // Checked as stored: a float member sees the rounded value (1e-50 is 0, 1e300 inf).
    const T v = static_cast<T>(d);
    if (Status s = CheckRange(static_cast<double>(v)); !s.ok()) return s;
    *out = v;
    return Status::Ok();
  }

  template <typename T>
  Status StoreChoice(T* out, Result<T> (*parse)(const std::string&)) const {
    const std::string* name = std::get_if<std::string>(&value_);
    if (!name) return TypeError();
    Result<T> v = parse(*name);
    if (!v.ok()) return Bad(shown_ + ": " + v.status().message());
    *out = *v;
    return Status::Ok();
  }

  const OptionSpec& spec_;
  const OptionValue& value_;
  const std::string& shown_;
  OptionSource source_;
};

// Reads a field into an OptionValue; one operator per type of field.
struct Load {
  OptionValue operator()(const bool* p) const { return *p; }
  OptionValue operator()(const int* p) const { return static_cast<int64_t>(*p); }
  OptionValue operator()(const uint64_t* p) const { return *p; }
  OptionValue operator()(const float* p) const { return static_cast<double>(*p); }
  OptionValue operator()(const double* p) const { return *p; }
  OptionValue operator()(const ScoreVariant* p) const { return std::string(ScoreVariantName(*p)); }
  OptionValue operator()(const WeightsMode* p) const { return std::string(WeightsModeName(*p)); }
  OptionValue operator()(const std::vector<std::string>* p) const { return *p; }
};

// Formats a field as a person writes it; one operator per type of field.
struct Format {
  std::string operator()(const bool* p) const { return *p ? "true" : "false"; }
  std::string operator()(const int* p) const { return std::to_string(*p); }
  std::string operator()(const uint64_t* p) const { return std::to_string(*p); }
  std::string operator()(const float* p) const { return ShortestText(*p); }
  std::string operator()(const double* p) const { return ShortestText(*p); }
  std::string operator()(const ScoreVariant* p) const { return ScoreVariantName(*p); }
  std::string operator()(const WeightsMode* p) const { return WeightsModeName(*p); }
  std::string operator()(const std::vector<std::string>* p) const {
    std::string out;
    for (const auto& s : *p) out += (out.empty() ? "" : ", ") + s;
    return out;
  }
};

}  // namespace

std::span<const char* const> ScoreVariantNames() { return kScoreVariantNames; }
std::span<const char* const> WeightsModeNames() { return kWeightsModeNames; }

Result<ScoreVariant> ParseScoreVariant(const std::string& name) {
  return ParseName<ScoreVariant>(kScoreVariantNames, name, "score variant");
}

Result<WeightsMode> ParseWeightsMode(const std::string& name) {
  return ParseName<WeightsMode>(kWeightsModeNames, name, "weights mode");
}

const char* ScoreVariantName(ScoreVariant v) { return NameOf(ScoreVariantNames(), v); }
const char* WeightsModeName(WeightsMode m) { return NameOf(WeightsModeNames(), m); }

Status Validate(const EnsembleOptions& options) {
  // Storing each value again, into a copy, runs the one check every front end runs.
  EnsembleOptions copy = options;
  for (const OptionSpec& spec : kTable) {
    Status s = SetOption(spec, GetOption(spec, options), spec.name, OptionSource::kLocal, &copy);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::span<const OptionSpec> EnsembleOptionTable() { return kTable; }

const OptionSpec* FindOption(std::string_view name) {
  for (const OptionSpec& spec : kTable) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

OptionKind KindOf(const OptionSpec& spec) {
  const OptionField f = FieldOf(spec, Defaults());
  if (std::holds_alternative<bool*>(f)) return OptionKind::kBool;
  if (std::holds_alternative<int*>(f) || std::holds_alternative<uint64_t*>(f)) return OptionKind::kInteger;
  if (std::holds_alternative<float*>(f) || std::holds_alternative<double*>(f)) return OptionKind::kNumber;
  if (std::holds_alternative<std::vector<std::string>*>(f)) return OptionKind::kStrings;
  return OptionKind::kChoice;
}

std::span<const char* const> ChoicesOf(const OptionSpec& spec) {
  const OptionField f = FieldOf(spec, Defaults());
  if (std::holds_alternative<ScoreVariant*>(f)) return ScoreVariantNames();
  if (std::holds_alternative<WeightsMode*>(f)) return WeightsModeNames();
  return {};
}

OptionValue GetOption(const OptionSpec& spec, const EnsembleOptions& options) {
  return std::visit([](auto* p) { return Load{}(p); }, FieldOf(spec, options));
}

std::string FormatOption(const OptionSpec& spec, const EnsembleOptions& options) {
  return std::visit([](auto* p) { return Format{}(p); }, FieldOf(spec, options));
}

std::string DefaultText(const OptionSpec& spec) { return FormatOption(spec, Defaults()); }

std::string KindText(const OptionSpec& spec) {
  switch (KindOf(spec)) {
    case OptionKind::kBool: return "true or false";
    case OptionKind::kInteger: return "an integer";
    case OptionKind::kNumber: return "a number";
    case OptionKind::kChoice: return Alternatives(ChoicesOf(spec));
    case OptionKind::kStrings: return "a string or an array of strings";
  }
  return "?";
}

std::string RangeText(const OptionSpec& spec, OptionSource source) {
  const OptionKind kind = KindOf(spec);
  const OptionRange b = BoundsOf(spec, source);
  if (kind == OptionKind::kStrings) {
    return std::isfinite(b.max) ? "at most " + ShortestText(b.max) + " strings" : "";
  }
  if (kind != OptionKind::kInteger && kind != OptionKind::kNumber) return "";
  const bool low = std::isfinite(b.min), high = std::isfinite(b.max);
  const std::string lo = ShortestText(b.min), hi = ShortestText(b.max);
  std::string text;
  if (low && high) {
    text = b.min_exclusive ? "greater than " + lo + " and at most " + hi : "between " + lo + " and " + hi;
  } else if (low) {
    text = (b.min_exclusive ? "greater than " : "at least ") + lo;
  } else if (high) {
    text = "at most " + hi;
  }
  if (spec.negative_is_off) text += " (a negative value turns it off)";
  return text;
}

Status SetOption(const OptionSpec& spec, const OptionValue& value, const std::string& shown,
                 OptionSource source, EnsembleOptions* options) {
  return std::visit(Store(spec, value, shown, source), spec.field(*options));
}

Result<OptionValue> ParseOptionText(const OptionSpec& spec, std::string_view text,
                                    const std::string& shown) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  switch (KindOf(spec)) {
    case OptionKind::kBool:
      if (text == "true" || text == "false") return OptionValue(text == "true");
      break;
    case OptionKind::kInteger: {
      int64_t i = 0;
      if (auto r = std::from_chars(begin, end, i); r.ec == std::errc() && r.ptr == end) return OptionValue(i);
      uint64_t u = 0;
      if (auto r = std::from_chars(begin, end, u); r.ec == std::errc() && r.ptr == end) return OptionValue(u);
      break;
    }
    case OptionKind::kNumber: {
      // strtod, not from_chars: it takes what a person types ("+1", "1e-3", ".5").
      const std::string copy(text);
      char* stop = nullptr;
      const double d = copy.empty() || std::isspace(static_cast<unsigned char>(copy[0]))
                           ? 0 : std::strtod(copy.c_str(), &stop);
      if (stop != nullptr && *stop == '\0') return OptionValue(d);
      break;
    }
    case OptionKind::kChoice: return OptionValue(std::string(text));
    case OptionKind::kStrings: return OptionValue(std::vector<std::string>{std::string(text)});
  }
  return Bad(shown + " must be " + KindText(spec) + ", not '" + std::string(text) + "'");
}

}  // namespace specfuse
