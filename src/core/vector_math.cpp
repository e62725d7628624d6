#include "core/vector_math.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

// The loops below are written so the compiler vectorizes them; target_clones adds an AVX2
// version picked at load time on CPUs that have it, with the baseline build as fallback.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SPECFUSE_CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define SPECFUSE_CLONES
#endif

namespace specfuse {

namespace {

// Cody-Waite range reduction to r in [-ln2/2, ln2/2], then a degree-6 polynomial for e^r
// and the exponent put back through the float's bits.
inline float ExpKernel(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick, which leaves n in the low mantissa bits
  // and keeps the loop free of calls, so that it vectorizes.
  const float shifter = 12582912.0f;
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t tbits;
  std::memcpy(&tbits, &t, sizeof tbits);
  const int32_t bits = (tbits - 0x4B400000 + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

// Sums e^((x - shift) * scale) over [at, end) into eight float lanes; W writes each term.
template <bool W>
inline void ExpBlock(const float* x, size_t at, size_t end, float shift, float scale, float* w,
                     float* acc) {
  size_t i = at;
  for (; i + 8 <= end; i += 8) {
    for (int k = 0; k < 8; ++k) {
      float e = ExpKernel((x[i + k] - shift) * scale);
      if constexpr (W) w[i + k] = e;
      acc[k] += e;
    }
  }
  for (; i < end; ++i) {
    float e = ExpKernel((x[i] - shift) * scale);
    if constexpr (W) w[i] = e;
    acc[0] += e;
  }
}

}  // namespace

float ExpF(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return std::numeric_limits<float>::infinity();
  return ExpKernel(x);
}

SPECFUSE_CLONES
float MaxOf(const float* x, size_t n) {
  float m[8];
  for (float& v : m) v = -std::numeric_limits<float>::infinity();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  }
  for (; i < n; ++i) m[0] = x[i] > m[0] ? x[i] : m[0];
  float best = m[0];
  for (int k = 1; k < 8; ++k) best = m[k] > best ? m[k] : best;
  return best;
}

SPECFUSE_CLONES
double ExpShifted(const float* x, size_t n, float shift, float scale, float* w) {
  // Float partial sums over blocks of 512, added up in double: the error stays near float
  // rounding of one block rather than growing with the vocabulary.
  double total = 0.0;
  for (size_t at = 0; at < n; at += 512) {
    const size_t end = at + 512 < n ? at + 512 : n;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (w) {
      ExpBlock<true>(x, at, end, shift, scale, w, acc);
    } else {
      ExpBlock<false>(x, at, end, shift, scale, w, acc);
    }
    for (float a : acc) total += a;
  }
  return total;
}

float LogSumExp(const float* x, size_t n, float* max) {
  if (n == 0) {
    if (max) *max = -std::numeric_limits<float>::infinity();
    return -std::numeric_limits<float>::infinity();
  }
  const float m = MaxOf(x, n);
  if (max) *max = m;
  if (!std::isfinite(m)) return m;
  return m + static_cast<float>(std::log(ExpShifted(x, n, m, 1.0f, nullptr)));
}

}  // namespace specfuse
