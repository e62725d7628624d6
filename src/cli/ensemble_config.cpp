#include "cli/ensemble_config.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "cli/default_models.h"

namespace specfuse::cli {

namespace {

constexpr double kMaxTimeoutSeconds = 1e6;

Status Bad(const std::string& origin, const std::string& what) {
  return Status::Error(ErrorCode::kInvalidArgument, origin + ": " + what);
}

// Rejects keys a table should not have, so a typo does not pass silently.
Status CheckKeys(const toml::table& t, const std::set<std::string>& allowed, const std::string& where,
                 const std::string& origin) {
  for (const auto& [key, value] : t) {
    if (!allowed.count(std::string(key.str()))) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Bad(origin, "unknown key '" + std::string(key.str()) + "' in " + where +
                             " (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

template <typename T>
Status Read(const toml::table& t, const char* key, T* out, const std::string& where,
            const std::string& origin) {
  const toml::node* node = t.get(key);
  if (!node) return Status::Ok();
  if constexpr (std::is_same_v<T, bool>) {
    if (auto v = node->value<bool>()) { *out = *v; return Status::Ok(); }
    return Bad(origin, where + key + " must be true or false");
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (auto v = node->value<std::string>()) { *out = *v; return Status::Ok(); }
    return Bad(origin, where + key + " must be a string");
  } else if constexpr (std::is_integral_v<T>) {
    if (!node->is_integer()) return Bad(origin, where + key + " must be an integer");
    const int64_t v = *node->value_exact<int64_t>();
    // A value out of T's range must not wrap into a valid one (2^32 + 1 is not 1). A
    // 64-bit unsigned field (the seed) takes any 64-bit pattern, as requests do.
    if constexpr (std::is_signed_v<T> || sizeof(T) < sizeof(int64_t)) {
      if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return Bad(origin, where + key + " is out of range");
      }
    }
    *out = static_cast<T>(v);
    return Status::Ok();
  } else {
    auto v = node->value<double>();
    if (!v) return Bad(origin, where + key + " must be a number");
    // TOML allows nan and inf, which every range check downstream would let through.
    if (!std::isfinite(*v) || std::fabs(*v) > static_cast<double>(std::numeric_limits<T>::max())) {
      return Bad(origin, where + key + " must be a finite number");
    }
    *out = static_cast<T>(*v);
    return Status::Ok();
  }
}

#define SPECFUSE_READ(table, key, out, where)                     \
  do {                                                            \
    Status s_ = Read(table, key, out, where, origin);             \
    if (!s_.ok()) return s_;                                      \
  } while (0)

// A [[member]] with backend = "openai": a model behind an OpenAI-compatible server.
Result<MemberConfig> ParseRemoteMember(const toml::table& t, const std::string& where,
                                       const std::string& table_name, const std::string& origin) {
  Status s = CheckKeys(t, {"name", "backend", "url", "remote_model", "api_key", "api_key_env",
                           "timeout_s", "retries", "chat_template", "context_size", "batch_scoring",
                           "role", "temperature", "weight", "optional"},
                       table_name + " (a remote member)", origin);
  if (!s.ok()) return s;
  MemberConfig m;
  m.backend = MemberBackend::kOpenAI;
  OpenAIModelOptions& o = m.openai;
  std::string role, api_key_env;
  SPECFUSE_READ(t, "url", &o.url, where);
  SPECFUSE_READ(t, "remote_model", &o.remote_model, where);
  SPECFUSE_READ(t, "name", &o.name, where);
  SPECFUSE_READ(t, "api_key", &o.api_key, where);
  SPECFUSE_READ(t, "api_key_env", &api_key_env, where);
  SPECFUSE_READ(t, "timeout_s", &o.timeout_s, where);
  SPECFUSE_READ(t, "retries", &o.retries, where);
  SPECFUSE_READ(t, "chat_template", &o.chat_template, where);
  SPECFUSE_READ(t, "context_size", &o.context_size, where);
  SPECFUSE_READ(t, "batch_scoring", &o.batch_scoring, where);
  SPECFUSE_READ(t, "temperature", &m.temperature, where);
  SPECFUSE_READ(t, "weight", &m.weight, where);
  SPECFUSE_READ(t, "optional", &m.optional, where);
  SPECFUSE_READ(t, "role", &role, where);
  if (o.url.empty()) return Bad(origin, where + "a remote member needs url = \"http://host:port\"");
  if (!o.api_key.empty() && !api_key_env.empty()) {
    return Bad(origin, where + "give api_key or api_key_env, not both");
  }
  if (!api_key_env.empty()) {
    const char* key = std::getenv(api_key_env.c_str());
    if (key == nullptr || *key == '\0') {
      return Bad(origin, where + "api_key_env names " + api_key_env + ", which is not set");
    }
    o.api_key = key;
  }
  // The bound keeps the deadline arithmetic (nanoseconds in 64 bits) far from overflow.
  if (!(o.timeout_s > 0) || o.timeout_s > kMaxTimeoutSeconds) {
    return Bad(origin, where + "timeout_s must be greater than 0 and at most 1000000 (seconds)");
  }
  if (o.retries < 0) return Bad(origin, where + "retries must be 0 or more");
  if (o.context_size < 0) return Bad(origin, where + "context_size must be 0 (ask the server) or more");
  if (!role.empty()) {
    auto r = ParseMemberRole(role);
    if (!r.ok()) return Bad(origin, where + r.status().message());
    m.role = *r;
  }
  return m;
}

}  // namespace

Result<MemberConfig> MemberFromArgument(const std::string& arg) {
  MemberConfig m;
  std::error_code ec;
  if (!std::filesystem::exists(arg, ec) && arg.find('/') == std::string::npos &&
      arg.find(".gguf") == std::string::npos) {
    auto d = FindDefaultModel(arg);
    if (!d.ok()) return d.status();
    if (!d->present) {
      return Status::Error(ErrorCode::kNotFound, "default model '" + arg + "' is not in " + d->path +
                                                     "; run scripts/setup.sh to fetch it");
    }
    m.llama.path = d->path;
    m.llama.name = d->name;
    m.llama.chat_template = d->chat_template;
    return m;
  }
  m.llama.path = arg;
  return m;
}

Result<std::vector<MemberConfig>> DefaultMembers() {
  std::vector<MemberConfig> out;
  for (const auto& d : DefaultEnsemble()) {
    auto m = MemberFromArgument(d.name);
    if (!m.ok()) return m.status();
    out.push_back(*m);
  }
  if (out.empty()) return Status::Error(ErrorCode::kNotFound, "no default ensemble is defined");
  return out;
}

Result<EnsembleConfig> ParseEnsembleConfig(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status::Error(ErrorCode::kInvalidArgument, msg.str());
  }
  EnsembleConfig c;
  EnsembleOptions& o = c.options;
  Status s = CheckKeys(root, {"name", "segment_tokens", "max_tokens", "score", "weights", "hedge_eta0",
                              "size_prior", "anchor_margin", "anchor_token_margin", "stop", "sampling", "exit", "member"},
                       "the top level", origin);
  if (!s.ok()) return s;
  SPECFUSE_READ(root, "name", &c.name, "");
  SPECFUSE_READ(root, "segment_tokens", &o.segment_tokens, "");
  SPECFUSE_READ(root, "max_tokens", &o.max_tokens, "");
  SPECFUSE_READ(root, "hedge_eta0", &o.hedge_eta0, "");
  SPECFUSE_READ(root, "size_prior", &o.size_prior, "");
  SPECFUSE_READ(root, "anchor_margin", &o.anchor_margin, "");
  SPECFUSE_READ(root, "anchor_token_margin", &o.anchor_token_margin, "");
  std::string score, weights;
  SPECFUSE_READ(root, "score", &score, "");
  SPECFUSE_READ(root, "weights", &weights, "");
  if (!score.empty()) {
    auto v = ParseScoreVariant(score);
    if (!v.ok()) return Bad(origin, v.status().message());
    o.score = *v;
  }
  if (!weights.empty()) {
    auto v = ParseWeightsMode(weights);
    if (!v.ok()) return Bad(origin, v.status().message());
    o.weights = *v;
  }
  if (const toml::node* stop = root.get("stop")) {
    const toml::array* arr = stop->as_array();
    if (!arr) return Bad(origin, "stop must be an array of strings");
    for (const auto& e : *arr) {
      auto v = e.value<std::string>();
      if (!v) return Bad(origin, "stop must be an array of strings");
      o.stop.push_back(*v);
    }
  }
  if (const toml::node* n = root.get("sampling")) {
    const toml::table* t = n->as_table();
    if (!t) return Bad(origin, "[sampling] must be a table");
    s = CheckKeys(*t, {"temperature", "top_p", "top_k", "seed"}, "[sampling]", origin);
    if (!s.ok()) return s;
    SPECFUSE_READ(*t, "temperature", &o.sampling.temperature, "sampling.");
    SPECFUSE_READ(*t, "top_p", &o.sampling.top_p, "sampling.");
    SPECFUSE_READ(*t, "top_k", &o.sampling.top_k, "sampling.");
    SPECFUSE_READ(*t, "seed", &o.sampling.seed, "sampling.");
  }
  if (const toml::node* n = root.get("exit")) {
    const toml::table* t = n->as_table();
    if (!t) return Bad(origin, "[exit] must be a table");
    s = CheckKeys(*t, {"enabled", "warmup_rounds", "temperature", "entropy_threshold", "epsilon",
                       "min_active"},
                  "[exit]", origin);
    if (!s.ok()) return s;
    SPECFUSE_READ(*t, "enabled", &o.exit.enabled, "exit.");
    SPECFUSE_READ(*t, "warmup_rounds", &o.exit.warmup_rounds, "exit.");
    SPECFUSE_READ(*t, "temperature", &o.exit.temperature, "exit.");
    SPECFUSE_READ(*t, "entropy_threshold", &o.exit.entropy_threshold, "exit.");
    SPECFUSE_READ(*t, "epsilon", &o.exit.epsilon, "exit.");
    SPECFUSE_READ(*t, "min_active", &o.exit.min_active, "exit.");
  }
  std::filesystem::path base = std::filesystem::path(origin).parent_path();
  if (const toml::node* n = root.get("member")) {
    const toml::array* arr = n->as_array();
    if (!arr) return Bad(origin, "member must be an array of tables ([[member]])");
    int index = 0;
    for (const auto& e : *arr) {
      ++index;
      const toml::table* t = e.as_table();
      std::string where = "member " + std::to_string(index) + ": ";
      if (!t) return Bad(origin, where + "must be a table");
      std::string backend = "llama";
      SPECFUSE_READ(*t, "backend", &backend, where);
      if (backend == "openai") {
        auto remote = ParseRemoteMember(*t, where, "[[member]] " + std::to_string(index), origin);
        if (!remote.ok()) return remote.status();
        c.members.push_back(*remote);
        continue;
      }
      if (backend != "llama") {
        return Bad(origin, where + "unknown backend '" + backend + "'; use llama (default) or openai");
      }
      s = CheckKeys(*t, {"name", "backend", "path", "model", "role", "temperature", "chat_template",
                         "context_size", "threads", "gpu_layers", "batch_wait_us", "weight", "optional"},
                    "[[member]] " + std::to_string(index) + " (a local member; remote members "
                    "need backend = \"openai\")", origin);
      if (!s.ok()) return s;
      std::string path, model, role;
      SPECFUSE_READ(*t, "path", &path, where);
      SPECFUSE_READ(*t, "model", &model, where);
      if (path.empty() == model.empty()) return Bad(origin, where + "give exactly one of path or model");
      MemberConfig m;
      if (!model.empty()) {
        auto d = MemberFromArgument(model);
        if (!d.ok()) return Bad(origin, where + d.status().message());
        m = *d;
      } else {
        std::filesystem::path p(path);
        m.llama.path = p.is_absolute() || base.empty() ? path : (base / p).string();
      }
      SPECFUSE_READ(*t, "name", &m.llama.name, where);
      SPECFUSE_READ(*t, "chat_template", &m.llama.chat_template, where);
      SPECFUSE_READ(*t, "context_size", &m.llama.context_size, where);
      SPECFUSE_READ(*t, "threads", &m.llama.threads, where);
      SPECFUSE_READ(*t, "gpu_layers", &m.llama.gpu_layers, where);
      SPECFUSE_READ(*t, "batch_wait_us", &m.llama.batch_wait_us, where);
      if (m.llama.batch_wait_us < 0 || m.llama.batch_wait_us > 100000) {
        return Bad(origin, where + "batch_wait_us must be between 0 and 100000");
      }
      SPECFUSE_READ(*t, "temperature", &m.temperature, where);
      SPECFUSE_READ(*t, "weight", &m.weight, where);
      if (m.weight < 0) return Bad(origin, where + "weight must be >= 0 (0: from size_prior)");
      SPECFUSE_READ(*t, "optional", &m.optional, where);
      SPECFUSE_READ(*t, "role", &role, where);
      if (!role.empty()) {
        auto r = ParseMemberRole(role);
        if (!r.ok()) return Bad(origin, where + r.status().message());
        m.role = *r;
      }
      c.members.push_back(m);
    }
  }
  s = Validate(o);
  if (!s.ok()) return Bad(origin, s.message());
  return c;
}

Result<EnsembleConfig> LoadEnsembleConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(ErrorCode::kNotFound, "config file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseEnsembleConfig(ss.str(), path);
}

}  // namespace specfuse::cli
