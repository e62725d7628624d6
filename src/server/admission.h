// Admission control: at most max_active generation requests run at once, at most
// max_waiting more wait for a slot in arrival order; the rest are turned away (429).
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "server/metrics.h"

namespace specfuse::server {

class Admission {
 public:
  enum class Outcome { kAdmitted, kQueueFull, kShuttingDown };

  // queue_depth (may be null) mirrors the number of waiting requests.
  Admission(int max_active, int max_waiting, std::atomic<int>* queue_depth);

  // Blocks until a slot is free, or returns at once when the queue is full; returns
  // kShuttingDown to waiters when Shutdown() is called. A kAdmitted caller must Release().
  Outcome Acquire();
  void Release();
  // Wakes every waiter with kShuttingDown and admits no one from now on.
  void Shutdown();

 private:
  const int max_active_, max_waiting_;
  std::atomic<int>* queue_depth_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int active_ = 0, waiting_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;  // FIFO order among waiters
  bool shutting_down_ = false;
};

// An admitted slot, released on destruction.
class AdmissionSlot {
 public:
  explicit AdmissionSlot(Admission* admission) : admission_(admission) {}
  ~AdmissionSlot() { admission_->Release(); }
  AdmissionSlot(const AdmissionSlot&) = delete;
  AdmissionSlot& operator=(const AdmissionSlot&) = delete;

 private:
  Admission* admission_;
};

}  // namespace specfuse::server
