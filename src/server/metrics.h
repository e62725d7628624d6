// The server's Prometheus metrics: request and token counters, queue and sequence gauges,
// latency histograms. Thread-safe: handlers on any thread record, /metrics renders.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "specfuse/engine.h"
#include "specfuse/trace.h"

namespace specfuse::server {

// A Prometheus histogram over fixed second-valued buckets.
class Histogram {
 public:
  void Observe(double seconds);
  // The _bucket, _sum and _count lines of metric `name`.
  std::string Render(const std::string& name, const std::string& help) const;

 private:
  static constexpr std::array<double, 12> kBounds = {0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                                     5,    10,  30,   60,  120, 300};
  mutable std::mutex mutex_;
  std::array<uint64_t, kBounds.size()> counts_{};  // per bucket, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  // A response with this HTTP status (any path, and requests httplib could not parse).
  void CountRequest(int http_status);
  // What one finished answer cost.
  void RecordAnswer(const AnswerSummary& summary);
  void ObserveLatency(double seconds) { latency_.Observe(seconds); }
  void ObserveFirstToken(double seconds) { first_token_.Observe(seconds); }

  // Requests waiting for a slot; requests holding model sequences.
  std::atomic<int> queue_depth{0};
  std::atomic<int> active_sequences{0};

  // The Prometheus text exposition of everything above, then the members' decode
  // counters (forward passes, the requests' decodes they served, passes shared).
  std::string Render(const std::vector<Member>& members) const;

 private:
  mutable std::mutex mutex_;
  std::map<int, uint64_t> requests_;  // by HTTP status
  uint64_t prompt_tokens_ = 0, completion_tokens_ = 0;
  uint64_t rounds_ = 0, model_calls_ = 0, calls_saved_ = 0;
  Histogram latency_, first_token_;
};

// Holds one unit of a gauge while alive.
class GaugeHold {
 public:
  explicit GaugeHold(std::atomic<int>* gauge) : gauge_(gauge) { ++*gauge_; }
  ~GaugeHold() { --*gauge_; }
  GaugeHold(const GaugeHold&) = delete;
  GaugeHold& operator=(const GaugeHold&) = delete;

 private:
  std::atomic<int>* gauge_;
};

}  // namespace specfuse::server
