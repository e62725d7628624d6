// A stand-in Model for tests of pure functions over members: it reports a name and a
// parameter count only, and refuses to generate. No model is loaded or run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "specfuse/engine.h"

namespace specfuse {

class SizedModel : public Model {
 public:
  SizedModel(std::string name, int64_t params) : name_(std::move(name)), params_(params) {}
  const std::string& name() const override { return name_; }
  int64_t parameter_count() const override { return params_; }
  Result<std::unique_ptr<Sequence>> Start(const std::vector<ChatMessage>&, const SamplingOptions&) override {
    return Status::Error(ErrorCode::kInternal, "a stand-in model does not generate");
  }

 private:
  std::string name_;
  int64_t params_;
};

}  // namespace specfuse
