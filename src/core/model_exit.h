// The model-exit decision (DESIGN §2.5), a pure function of the drafters' cumulative
// quality so far.
#pragma once

#include <vector>

#include "specfuse/ensemble_options.h"

namespace specfuse {

struct ExitDecision {
  bool tested = false;         // past warm-up with more than min_active drafters
  std::vector<double> p;       // softmax(Q / temperature)
  double entropy = 1.0;        // normalized entropy of p, in [0, 1]
  std::vector<int> exits;      // indices into quality of the drafters that exit
};

// quality[i] is active drafter i's cumulative quality Q_i; rounds_done counts finished
// rounds. Drafters with p_i < epsilon / N exit when the entropy test passes; the best
// min_active drafters always stay.
ExitDecision DecideExits(const std::vector<double>& quality, int rounds_done,
                         const ExitOptions& options);

}  // namespace specfuse
