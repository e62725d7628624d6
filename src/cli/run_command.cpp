#include "cli/run_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

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

}  // namespace

void AddEnsembleFlags(CLI::App* app, EnsembleFlags* f) {
  app->add_option("-c,--config", f->config, "Ensemble config file (TOML)");
  app->add_option("-m,--model", f->models,
                  "A member: GGUF path or default model name (repeat for an ensemble)");
  app->add_option("--segment-tokens", f->segment_tokens, "Tokens per draft (L), default 10");
  app->add_option("--max-tokens", f->max_tokens, "Answer length limit, default 256");
  app->add_option("--temperature", f->temperature, "Sampling temperature, default 0.6 (0 = greedy)");
  app->add_option("--top-p", f->top_p, "Nucleus sampling, default 0.9");
  app->add_option("--top-k", f->top_k, "Top-k sampling, default 0 (off)");
  app->add_option("--seed", f->seed, "Sampling seed, default 42");
  app->add_option("--score", f->score, "Verifier score: logit (default), prob or logprob");
  app->add_option("--weights", f->weights, "Verifier weights: uniform (default) or hedge");
  app->add_option("--size-prior", f->size_prior,
                  "Verifier weights start proportional to parameters^P, default 0 (equal)");
  app->add_option("--anchor-margin", f->anchor_margin,
                  "Anchor gate: a candidate wins only within this many nats of the largest "
                  "verifier's favourite, default 0; negative: off");
  app->add_option("--anchor-token-margin", f->anchor_token_margin,
                  "Anchor token gate: no token of a winner may be more than this many nats below "
                  "the largest verifier's favourite token; negative: off (the default)");
  // Two callbacks rather than one negatable flag: CLI11 gives an optional flag with a
  // negation its default ("false") even when neither form is on the command line.
  app->add_flag_callback("--exit", [f] { f->exit = true; }, "Model exit on (the default)");
  app->add_flag_callback("--no-exit", [f] { f->exit = false; }, "Model exit off");
  app->add_option("--stop", f->stop, "Stop string (repeatable)");
  app->add_option("--ctx-size", f->ctx_size, "Context tokens per query and model, default 4096");
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
  EnsembleOptions& o = c.options;
  if (f.segment_tokens) o.segment_tokens = *f.segment_tokens;
  if (f.max_tokens) o.max_tokens = *f.max_tokens;
  if (f.temperature) o.sampling.temperature = *f.temperature;
  if (f.top_p) o.sampling.top_p = *f.top_p;
  if (f.top_k) o.sampling.top_k = *f.top_k;
  if (f.seed) o.sampling.seed = *f.seed;
  if (f.exit) o.exit.enabled = *f.exit;
  if (f.size_prior) o.size_prior = *f.size_prior;
  if (f.anchor_margin) o.anchor_margin = *f.anchor_margin;
  if (f.anchor_token_margin) o.anchor_token_margin = *f.anchor_token_margin;
  if (!f.stop.empty()) o.stop = f.stop;
  if (f.score) {
    auto v = ParseScoreVariant(*f.score);
    if (!v.ok()) return v.status();
    o.score = *v;
  }
  if (f.weights) {
    auto v = ParseWeightsMode(*f.weights);
    if (!v.ok()) return v.status();
    o.weights = *v;
  }
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int per_member = std::max(1, cores / static_cast<int>(c.members.size()));
  for (auto& m : c.members) {
    if (f.ctx_size) m.llama.context_size = *f.ctx_size;
    if (f.gpu_layers) m.llama.gpu_layers = *f.gpu_layers;
    if (f.threads) m.llama.threads = *f.threads;
    else if (m.llama.threads == 0) m.llama.threads = per_member;
  }
  Status s = Validate(o);
  if (!s.ok()) return s;
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
