// The verifiers' prior weights (PriorWeights), computed by hand. The models here are
// stand-ins that only report a name and a parameter count: no model is loaded or run.
#include <gtest/gtest.h>

#include "sized_model.h"
#include "specfuse/engine.h"

namespace specfuse {
namespace {

Member M(int64_t params, double weight = 0.0) {
  Member m;
  m.model = std::make_shared<SizedModel>("m" + std::to_string(params), params);
  m.weight = weight;
  return m;
}

TEST(PriorWeights, AreUniformWithoutAPrior) {
  auto w = PriorWeights({M(135'000'000), M(494'000'000)}, 0.0);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_DOUBLE_EQ(w[0], 0.5);
  EXPECT_DOUBLE_EQ(w[1], 0.5);
}

TEST(PriorWeights, GrowWithParametersToThePriorsPower) {
  // 1e8 and 4e8 parameters: power 1 gives 0.1 : 0.4 = 0.2 / 0.8; power 2 gives 1 : 16.
  auto w = PriorWeights({M(100'000'000), M(400'000'000)}, 1.0);
  EXPECT_NEAR(w[0], 0.2, 1e-12);
  EXPECT_NEAR(w[1], 0.8, 1e-12);
  w = PriorWeights({M(100'000'000), M(400'000'000)}, 2.0);
  EXPECT_NEAR(w[0], 1.0 / 17.0, 1e-12);
  EXPECT_NEAR(w[1], 16.0 / 17.0, 1e-12);
}

TEST(PriorWeights, KeepAMembersOwnWeightAndCountUnknownSizesAsOne) {
  // Own weight 3; 1e9 parameters at power 1 is 1; an unknown size (remote) is 1.
  auto w = PriorWeights({M(100'000'000, 3.0), M(1'000'000'000), M(0)}, 1.0);
  EXPECT_NEAR(w[0], 0.6, 1e-12);
  EXPECT_NEAR(w[1], 0.2, 1e-12);
  EXPECT_NEAR(w[2], 0.2, 1e-12);
}

}  // namespace
}  // namespace specfuse
