// Vectorized float math over logits rows: the hot loops of drafting and scoring, where a
// row is the whole vocabulary (150k entries for Qwen) and is read once per token.
#pragma once

#include <cstddef>

namespace specfuse {

// e^x in float, relative error under 2e-7 for x in [-87, 88]; 0 below, +inf above.
float ExpF(float x);

// Largest value of x[0, n).
float MaxOf(const float* x, size_t n);

// Fills w[i] = e^((x[i] - shift) * scale) and returns their sum (accumulated in double).
double ExpShifted(const float* x, size_t n, float shift, float scale, float* w);

// log(sum(e^x[i])): the log-normalizer of a logits row, for log-softmax. With max, also
// stores MaxOf(x, n) there (found on the way), so that the best token's log-probability
// costs no second pass over the row.
float LogSumExp(const float* x, size_t n, float* max = nullptr);

}  // namespace specfuse
