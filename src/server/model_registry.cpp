#include "server/model_registry.h"

namespace specfuse::server {

ModelRegistry::ModelRegistry(std::string ensemble_name, std::vector<Member> members) {
  if (ensemble_name.empty()) ensemble_name = "specfuse";
  models_.push_back({ensemble_name, members, true});
  for (const auto& m : members) {
    if (Find(m.model->name()) != nullptr) continue;
    // Alone, a member drafts: a verifier-only member would have no one to verify.
    Member solo = m;
    solo.role = MemberRole::kBoth;
    models_.push_back({m.model->name(), {solo}, false});
  }
}

const ServedModel* ModelRegistry::Find(const std::string& id) const {
  if (id.empty() || id == "specfuse") return &models_[0];
  for (const auto& m : models_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::string ModelRegistry::Names() const {
  std::string out;
  for (const auto& m : models_) out += (out.empty() ? "" : ", ") + m.id;
  return out;
}

}  // namespace specfuse::server
