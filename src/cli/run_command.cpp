#include "cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "specfuse/option_table.h"
#include "specfuse/trace.h"

namespace specfuse::cli {

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "specfuse: error: %s\n", s.message().c_str());
  return 1;
}

// Where --trace goes: nowhere, stderr ("-") or a file.
class TraceSink {
 public:
  Status Open(const std::string& path) {
    if (path.empty()) return Status::Ok();
    if (path == "-") {
      out_ = &std::cerr;
      return Status::Ok();
    }
    file_.open(path, std::ios::out | std::ios::trunc);
    if (!file_) {
      return Status::Error(ErrorCode::kInvalidArgument, "cannot write the trace to '" + path + "'");
    }
    out_ = &file_;
    return Status::Ok();
  }
  void Write(const std::string& line) {
    if (out_) {
      *out_ << line << '\n';
      out_->flush();
    }
  }

 private:
  std::ofstream file_;
  std::ostream* out_ = nullptr;
};

const char* TypeName(const OptionSpec& spec) {
  switch (KindOf(spec)) {
    case OptionKind::kInteger: return "INT";
    case OptionKind::kNumber: return "FLOAT";
    default: return "TEXT";
  }
}

// The help of an option's flag: the table's phrase, the names of a choice, the range (the
// default is CLI11's "=VALUE" after the type).
std::string FlagHelp(const OptionSpec& spec) {
  std::string help = spec.help;
  if (KindOf(spec) == OptionKind::kChoice) help += ": " + KindText(spec);
  if (std::string range = RangeText(spec); !range.empty()) help += "; " + range;
  if (KindOf(spec) == OptionKind::kStrings) help += " (repeatable)";
  return help;
}

// One flag per row of the option table that names one; a bool gets --X and --no-X.
void AddOptionFlags(CLI::App* app, EnsembleFlags* f) {
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    if (spec.flag == nullptr) continue;
    std::vector<std::string>* given = &f->options[spec.name];
    const std::string flag = spec.flag;
    const OptionKind kind = KindOf(spec);
    if (kind == OptionKind::kBool) {
      // Two callbacks rather than one negatable flag: CLI11 gives an optional flag with a
      // negation its default ("false") even when neither form is on the command line.
      const bool on = DefaultText(spec) == "true";
      app->add_flag_callback(flag, [given] { *given = {"true"}; },
                             std::string(spec.help) + " on" + (on ? " (the default)" : ""));
      app->add_flag_callback("--no-" + flag.substr(2), [given] { *given = {"false"}; },
                             std::string(spec.help) + " off" + (on ? "" : " (the default)"));
      continue;
    }
    CLI::Option* option =
        kind == OptionKind::kStrings
            ? app->add_option_function<std::vector<std::string>>(
                  flag, [given](const std::vector<std::string>& v) { *given = v; }, FlagHelp(spec))
            : app->add_option_function<std::string>(
                  flag, [given](const std::string& v) { *given = {v}; }, FlagHelp(spec));
    option->type_name(TypeName(spec))->default_str(DefaultText(spec));
  }
}

// The option flags given, over the config file's values; a bad value is an error naming
// its flag ("--top-p must be greater than 0 and at most 1").
Status ApplyOptionFlags(const EnsembleFlags& f, EnsembleOptions* options) {
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    if (spec.flag == nullptr || !f.Gave(spec.name)) continue;
    const std::vector<std::string>& given = f.options.at(spec.name);
    OptionValue value = given;
    if (KindOf(spec) != OptionKind::kStrings) {
      auto parsed = ParseOptionText(spec, given.back(), spec.flag);
      if (!parsed.ok()) return parsed.status();
      value = *parsed;
    }
    Status s = SetOption(spec, value, spec.flag, OptionSource::kLocal, options);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

void AddEnsembleFlags(CLI::App* app, EnsembleFlags* f) {
  app->add_option("-c,--config", f->config, "Ensemble config file (TOML)");
  app->add_option("-m,--model", f->models,
                  "A member: GGUF path or default model name (repeat for an ensemble)");
  AddOptionFlags(app, f);
  app->add_option("--ctx-size", f->ctx_size, "Context tokens per query and model")
      ->default_str(std::to_string(LlamaModelOptions{}.context_size));
  app->add_option("--threads", f->threads, "CPU threads per model, default: cores / members");
  app->add_option("--gpu-layers", f->gpu_layers, "Layers offloaded to the GPU, default all");
  app->add_flag("-v,--verbose", f->verbose, "Show llama.cpp's log");
}

Result<EnsembleConfig> ResolveEnsemble(const EnsembleFlags& f) {
  EnsembleConfig c;
  if (!f.config.empty()) {
    auto loaded = LoadEnsembleConfig(f.config);
    if (!loaded.ok()) return loaded.status();
    c = *loaded;
  }
  if (!f.models.empty()) {
    c.members.clear();
    for (const auto& m : f.models) {
      auto member = MemberFromArgument(m);
      if (!member.ok()) return member.status();
      c.members.push_back(*member);
    }
  }
  if (c.members.empty()) {
    auto d = DefaultMembers();
    if (!d.ok()) return d.status();
    c.members = *d;
  }
  Status s = ApplyOptionFlags(f, &c.options);
  if (!s.ok()) return s;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int per_member = std::max(1, cores / static_cast<int>(c.members.size()));
  for (auto& m : c.members) {
    if (f.ctx_size) m.llama.context_size = *f.ctx_size;
    if (f.gpu_layers) m.llama.gpu_layers = *f.gpu_layers;
    if (f.threads) m.llama.threads = *f.threads;
    else if (m.llama.threads == 0) m.llama.threads = per_member;
  }
  return c;
}

Result<std::vector<Member>> LoadMembers(const EnsembleConfig& config) {
  std::vector<Member> members;
  for (const auto& mc : config.members) {
    Result<std::shared_ptr<Model>> model = Status::Error(ErrorCode::kInternal, "not loaded");
    if (mc.backend == MemberBackend::kOpenAI) {
      std::fprintf(stderr, "connecting to %s%s%s ...\n", mc.openai.url.c_str(),
                   mc.openai.remote_model.empty() ? "" : " for ", mc.openai.remote_model.c_str());
      model = ConnectOpenAIModel(mc.openai);
    } else {
      std::fprintf(stderr, "loading %s ...\n", mc.llama.path.c_str());
      model = LoadLlamaModel(mc.llama);
    }
    if (!model.ok()) {
      if (!mc.optional) return model.status();
      std::fprintf(stderr, "specfuse: warning: skipping optional member: %s\n",
                   model.status().message().c_str());
      continue;
    }
    members.push_back({*model, mc.role, mc.temperature, mc.weight});
  }
  if (members.empty()) {
    return Status::Error(ErrorCode::kUnavailable,
                         "no member of the ensemble could be loaded or reached");
  }
  return members;
}

namespace {

// An ensemble loaded from the flags, with its trace sink open.
struct Session {
  EnsembleConfig config;
  std::vector<Member> members;
  TraceSink sink;
};

Status OpenSession(const EnsembleFlags& flags, const std::string& trace_path, Session* session) {
  SetLlamaVerbose(flags.verbose);
  auto config = ResolveEnsemble(flags);
  if (!config.ok()) return config.status();
  session->config = *config;
  Status s = session->sink.Open(trace_path);
  if (!s.ok()) return s;
  auto members = LoadMembers(session->config);
  if (!members.ok()) return members.status();
  session->members = *members;
  return Status::Ok();
}

// Asks one question, streaming the answer to stdout and the rounds to the trace sink.
Status AskAndStream(Conversation& conversation, const std::string& question, TraceSink& sink) {
  auto answer = conversation.Ask(question, [&](const std::string& segment, const RoundTrace& round) {
    std::fwrite(segment.data(), 1, segment.size(), stdout);
    std::fflush(stdout);
    sink.Write(RoundToJson(round));
    return true;
  });
  std::fputc('\n', stdout);
  if (!answer.ok()) return answer.status();
  sink.Write(SummaryToJson(answer->summary));
  return Status::Ok();
}

}  // namespace

int RunCommand(const EnsembleFlags& flags, const std::string& prompt, const std::string& trace_path) {
  Session session;
  Status s = OpenSession(flags, trace_path, &session);
  if (!s.ok()) return Fail(s);
  Conversation conversation(session.members, session.config.options);
  s = AskAndStream(conversation, prompt, session.sink);
  return s.ok() ? 0 : Fail(s);
}

int ChatCommand(const EnsembleFlags& flags, const std::string& trace_path) {
  Session session;
  Status s = OpenSession(flags, trace_path, &session);
  if (!s.ok()) return Fail(s);
  Conversation conversation(session.members, session.config.options);
  std::fprintf(stderr, "chatting with %zu model(s); an empty line or end of input quits\n",
               session.members.size());
  std::string line;
  while (true) {
    std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    s = AskAndStream(conversation, line, session.sink);
    if (!s.ok()) Fail(s);
  }
  return 0;
}

}  // namespace specfuse::cli
