#include "cli/default_models.h"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "manifest.h"

namespace specfuse::cli {

namespace {

std::vector<std::string> SplitTabs(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string field;
  while (std::getline(ss, field, '\t')) out.push_back(field);
  return out;
}

std::vector<std::vector<std::string>> ManifestLines(const std::string& kind) {
  std::vector<std::vector<std::string>> out;
  std::stringstream ss(kModelManifest);
  std::string line;
  while (std::getline(ss, line)) {
    auto f = SplitTabs(line);
    if (!f.empty() && f[0] == kind) out.push_back(f);
  }
  return out;
}

}  // namespace

std::string CacheDir() {
  if (const char* c = std::getenv("SPECFUSE_CACHE"); c && *c) return c;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/specfuse";
}

std::vector<DefaultModel> DefaultModels() {
  std::vector<DefaultModel> out;
  for (const auto& f : ManifestLines("model")) {
    if (f.size() < 8) continue;
    DefaultModel m;
    m.name = f[1];
    m.file = f[2];
    m.sha256 = f[3];
    m.bytes = std::stoll(f[4]);
    m.license = f[5];
    m.chat_template = f[6] == "gguf" ? "" : f[6];
    m.description = f[7];
    m.path = CacheDir() + "/models/" + m.file;
    std::error_code ec;
    m.present = std::filesystem::exists(m.path, ec) &&
                static_cast<int64_t>(std::filesystem::file_size(m.path, ec)) == m.bytes;
    out.push_back(m);
  }
  return out;
}

std::vector<DefaultModel> DefaultEnsemble() {
  std::vector<DefaultModel> out;
  auto lines = ManifestLines("ensemble");
  if (lines.empty()) return DefaultModels();
  for (size_t i = 1; i < lines[0].size(); ++i) {
    auto m = FindDefaultModel(lines[0][i]);
    if (m.ok()) out.push_back(*m);
  }
  return out;
}

Result<DefaultModel> FindDefaultModel(const std::string& name) {
  std::string names;
  for (auto& m : DefaultModels()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  return Status::Error(ErrorCode::kNotFound,
                       "no default model is called '" + name + "' (known: " + names + ")");
}

}  // namespace specfuse::cli
