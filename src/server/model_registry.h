// The models a server offers: the whole ensemble under its name (and always under
// "specfuse"), and each member alone under its own model name.
#pragma once

#include <string>
#include <vector>

#include "specfuse/engine.h"

namespace specfuse::server {

struct ServedModel {
  std::string id;
  std::vector<Member> members;
  bool ensemble = false;
};

class ModelRegistry {
 public:
  ModelRegistry(std::string ensemble_name, std::vector<Member> members);

  // The model called id; "" names the ensemble. Null when there is no such model.
  const ServedModel* Find(const std::string& id) const;
  // The ensemble first, then each distinct member.
  const std::vector<ServedModel>& all() const { return models_; }
  // The ids, comma-separated, for error messages.
  std::string Names() const;

 private:
  std::vector<ServedModel> models_;
};

}  // namespace specfuse::server
