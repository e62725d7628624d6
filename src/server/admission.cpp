#include "server/admission.h"

namespace specfuse::server {

AdmissionSlot::~AdmissionSlot() { admission_->Release(); }

Admission::Admission(int max_active, int max_waiting, std::atomic<int>* queue_depth)
    : max_active_(max_active), max_waiting_(max_waiting), queue_depth_(queue_depth) {}

Admission::Ticket Admission::Acquire() {
  Ticket ticket;
  ticket.outcome = Wait();
  if (ticket.outcome == Outcome::kAdmitted) ticket.slot.reset(new AdmissionSlot(this));
  return ticket;
}

Admission::Outcome Admission::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (shutting_down_) return Outcome::kShuttingDown;
  if (active_ < max_active_ && waiting_ == 0) {
    ++active_;
    return Outcome::kAdmitted;
  }
  if (waiting_ >= max_waiting_) return Outcome::kQueueFull;
  const uint64_t ticket = next_ticket_++;
  ++waiting_;
  if (queue_depth_) ++*queue_depth_;
  cv_.wait(lock, [&] { return shutting_down_ || (ticket == serving_ && active_ < max_active_); });
  --waiting_;
  if (queue_depth_) --*queue_depth_;
  ++serving_;
  if (shutting_down_) {
    cv_.notify_all();
    return Outcome::kShuttingDown;
  }
  ++active_;
  cv_.notify_all();  // the next ticket may fit too
  return Outcome::kAdmitted;
}

void Admission::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
  }
  cv_.notify_all();
}

void Admission::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutting_down_ = true;
  }
  cv_.notify_all();
}

}  // namespace specfuse::server
