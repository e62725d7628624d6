#include "cli/ensemble_config.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <utility>
#include <sstream>

#include <toml++/toml.h>

#include "cli/default_models.h"
#include "specfuse/option_table.h"

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

// A [[member]] without a backend, or with backend = "llama": a GGUF file loaded in process.
Result<MemberConfig> ParseLocalMember(const toml::table& t, int index, const std::string& where,
                                      const std::filesystem::path& base, const std::string& origin) {
  Status s = CheckKeys(t, {"name", "backend", "path", "model", "role", "temperature", "chat_template",
                           "context_size", "threads", "gpu_layers", "batch_wait_us", "weight", "optional"},
                       "[[member]] " + std::to_string(index) + " (a local member; remote members "
                       "need backend = \"openai\")", origin);
  if (!s.ok()) return s;
  std::string path, model, role;
  SPECFUSE_READ(t, "path", &path, where);
  SPECFUSE_READ(t, "model", &model, where);
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
  SPECFUSE_READ(t, "name", &m.llama.name, where);
  SPECFUSE_READ(t, "chat_template", &m.llama.chat_template, where);
  SPECFUSE_READ(t, "context_size", &m.llama.context_size, where);
  SPECFUSE_READ(t, "threads", &m.llama.threads, where);
  SPECFUSE_READ(t, "gpu_layers", &m.llama.gpu_layers, where);
  SPECFUSE_READ(t, "batch_wait_us", &m.llama.batch_wait_us, where);
  if (m.llama.batch_wait_us < 0 || m.llama.batch_wait_us > 100000) {
    return Bad(origin, where + "batch_wait_us must be between 0 and 100000");
  }
  SPECFUSE_READ(t, "temperature", &m.temperature, where);
  SPECFUSE_READ(t, "weight", &m.weight, where);
  if (m.weight < 0) return Bad(origin, where + "weight must be >= 0 (0: from size_prior)");
  SPECFUSE_READ(t, "optional", &m.optional, where);
  SPECFUSE_READ(t, "role", &role, where);
  if (!role.empty()) {
    auto r = ParseMemberRole(role);
    if (!r.ok()) return Bad(origin, where + r.status().message());
    m.role = *r;
  }
  return m;
}

// The index-th [[member]] table, local or remote.
Result<MemberConfig> ParseMember(const toml::node& node, int index, const std::filesystem::path& base,
                                 const std::string& origin) {
  const toml::table* t = node.as_table();
  const std::string where = "member " + std::to_string(index) + ": ";
  if (!t) return Bad(origin, where + "must be a table");
  std::string backend = "llama";
  SPECFUSE_READ(*t, "backend", &backend, where);
  if (backend == "openai") {
    return ParseRemoteMember(*t, where, "[[member]] " + std::to_string(index), origin);
  }
  if (backend != "llama") {
    return Bad(origin, where + "unknown backend '" + backend + "'; use llama (default) or openai");
  }
  return ParseLocalMember(*t, index, where, base, origin);
}

// A TOML value as the option table reads it; anything it cannot be is std::monostate,
// which the table refuses by the option's kind.
OptionValue TomlValue(const toml::node& node) {
  if (auto v = node.value_exact<bool>()) return *v;
  if (auto v = node.value_exact<int64_t>()) return *v;
  if (auto v = node.value_exact<double>()) return *v;
  if (auto v = node.value_exact<std::string>()) return *v;
  const toml::array* array = node.as_array();
  if (!array) return std::monostate{};
  std::vector<std::string> strings;
  for (const auto& e : *array) {
    auto s = e.value_exact<std::string>();
    if (!s) return std::monostate{};
    strings.push_back(*s);
  }
  return strings;
}

// The TOML place of an option: its table ("" for the top level, else the name before the
// dot, [sampling] or [exit]) and its key there.
std::pair<std::string, std::string> TomlPlace(const OptionSpec& spec) {
  const std::string name = spec.name;
  const size_t dot = name.find('.');
  if (dot == std::string::npos) return {"", name};
  return {name.substr(0, dot), name.substr(dot + 1)};
}

// The table an option's section names, or nullptr when the file has none; an error when the
// section is not a table.
Result<const toml::table*> Section(const toml::table& root, const std::string& section,
                                   const std::string& origin) {
  if (section.empty()) return &root;
  const toml::node* n = root.get(section);
  if (!n) return static_cast<const toml::table*>(nullptr);
  if (!n->is_table()) return Bad(origin, "[" + section + "] must be a table");
  return n->as_table();
}

// Unknown keys at the top level and in the option tables are errors; the keys allowed are
// the option table's, name and [[member]].
Status CheckOptionKeys(const toml::table& root, const std::string& origin) {
  std::map<std::string, std::set<std::string>> keys = {{"", {"name", "member"}}};
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    auto [section, key] = TomlPlace(spec);
    keys[section].insert(key);
    if (!section.empty()) keys[""].insert(section);
  }
  for (const auto& [section, allowed] : keys) {
    auto table = Section(root, section, origin);
    if (!table.ok()) return table.status();
    if (*table == nullptr) continue;
    Status s = CheckKeys(**table, allowed, section.empty() ? "the top level" : "[" + section + "]", origin);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Every option the file sets, checked by the option table; messages name the option as the
// file does ("sampling.top_p").
Status ReadOptions(const toml::table& root, const std::string& origin, EnsembleOptions* options) {
  for (const OptionSpec& spec : EnsembleOptionTable()) {
    auto [section, key] = TomlPlace(spec);
    auto table = Section(root, section, origin);
    if (!table.ok()) return table.status();
    const toml::node* node = *table ? (*table)->get(key) : nullptr;
    if (!node) continue;
    Status s = SetOption(spec, TomlValue(*node), spec.name, OptionSource::kLocal, options);
    if (!s.ok()) return Bad(origin, s.message());
  }
  return Status::Ok();
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
  Status s = CheckOptionKeys(root, origin);
  if (!s.ok()) return s;
  SPECFUSE_READ(root, "name", &c.name, "");
  s = ReadOptions(root, origin, &c.options);
  if (!s.ok()) return s;
  if (const toml::node* n = root.get("member")) {
    const toml::array* arr = n->as_array();
    if (!arr) return Bad(origin, "member must be an array of tables ([[member]])");
    const std::filesystem::path base = std::filesystem::path(origin).parent_path();
    int index = 0;
    for (const auto& e : *arr) {
      auto m = ParseMember(e, ++index, base, origin);
      if (!m.ok()) return m.status();
      c.members.push_back(*m);
    }
  }
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
