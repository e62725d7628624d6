// Admission control: at most max_active generation requests run at once, at most
// max_waiting more wait for a slot in arrival order; the rest are turned away (429).
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

namespace specfuse::server {

class Admission;

// An admitted slot, released on destruction. Only Admission::Acquire makes one, so a
// slot that was taken is always given back.
class AdmissionSlot {
 public:
  ~AdmissionSlot();
  AdmissionSlot(const AdmissionSlot&) = delete;
  AdmissionSlot& operator=(const AdmissionSlot&) = delete;

 private:
  friend class Admission;
  explicit AdmissionSlot(Admission* admission) : admission_(admission) {}
  Admission* admission_;
};

class Admission {
 public:
  enum class Outcome { kAdmitted, kQueueFull, kShuttingDown };
  struct Ticket {
    Outcome outcome = Outcome::kShuttingDown;
    std::unique_ptr<AdmissionSlot> slot;  // set exactly when outcome is kAdmitted
  };

  // queue_depth (may be null) mirrors the number of waiting requests.
  Admission(int max_active, int max_waiting, std::atomic<int>* queue_depth);

  // Blocks until a slot is free, or returns at once when the queue is full; returns
  // kShuttingDown to waiters when Shutdown() is called. The slot is released when the
  // ticket's slot is destroyed.
  Ticket Acquire();
  // Wakes every waiter with kShuttingDown and admits no one from now on.
  void Shutdown();

 private:
  friend class AdmissionSlot;
  Outcome Wait();
  void Release();

  const int max_active_, max_waiting_;
  std::atomic<int>* queue_depth_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int active_ = 0, waiting_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;  // FIFO order among waiters
  bool shutting_down_ = false;
};

}  // namespace specfuse::server
