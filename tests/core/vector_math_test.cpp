// The vectorized exp and log-sum-exp against double-precision references.
#include "core/vector_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace specfuse {
namespace {

TEST(VectorMathTest, ExpFMatchesDoubleExpToFloatPrecision) {
  double worst = 0.0;
  for (float x = -87.0f; x <= 88.0f; x += 0.001953125f) {
    double ref = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(ExpF(x) - ref) / ref);
  }
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(ExpF(0.0f), 1.0f);
  EXPECT_EQ(ExpF(-100.0f), 0.0f);
  EXPECT_TRUE(std::isinf(ExpF(100.0f)));
}

TEST(VectorMathTest, LogSumExpOfAVocabularySizedRowMatchesDouble) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  for (size_t n : {1u, 7u, 8u, 513u, 151936u}) {
    std::vector<float> row(n);
    for (float& v : row) v = nd(rng);
    row[n / 2] = 30.0f;
    double mx = 30.0, sum = 0.0;
    for (float v : row) sum += std::exp(static_cast<double>(v) - mx);
    EXPECT_NEAR(LogSumExp(row.data(), n), mx + std::log(sum), 2e-5) << "n = " << n;
    EXPECT_EQ(MaxOf(row.data(), n), 30.0f);
  }
}

TEST(VectorMathTest, ExpShiftedFillsTheWeightsAndReturnsTheirSum) {
  std::vector<float> x = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 0.25f, 4.0f, -2.0f, 3.5f};
  std::vector<float> w(x.size());
  double sum = ExpShifted(x.data(), x.size(), 4.0f, 0.5f, w.data());
  double ref = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    double e = std::exp((x[i] - 4.0) * 0.5);
    EXPECT_NEAR(w[i], e, 1e-6 * e);
    ref += e;
  }
  EXPECT_NEAR(sum, ref, 1e-6);
}

TEST(VectorMathTest, LogSumExpOfEmptyOrInfiniteRows) {
  EXPECT_TRUE(std::isinf(LogSumExp(nullptr, 0)));
  std::vector<float> row = {-INFINITY, -INFINITY};
  EXPECT_TRUE(std::isinf(LogSumExp(row.data(), row.size())));
}

}  // namespace
}  // namespace specfuse
