// One streamed answer: runs Conversation::Reply on its own thread and hands each accepted
// segment to the thread that writes the HTTP stream. The answer's model sequences live
// exactly as long as the answer runs. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics.h"
#include "specfuse/engine.h"

namespace specfuse::server {

class Generation {
 public:
  struct Event {
    std::string segment;
    std::string round_json;  // RoundToJson of the round that accepted it
  };
  enum class Next { kEvent, kDone, kTimeout };

  // Starts answering messages (or continuing raw_prompt, when it is not empty) at once.
  // stopping (may be null) cancels when it turns true.
  Generation(std::vector<Member> members, EnsembleOptions options, std::vector<ChatMessage> messages,
             std::string raw_prompt, Metrics* metrics, const std::atomic<bool>* stopping);
  // Cancels and waits for the answer's thread, which frees its sequences.
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // The next segment (kEvent), the end of the answer (kDone; see result()), or nothing
  // within timeout (kTimeout).
  Next Wait(Event* event, std::chrono::milliseconds timeout);
  // Asks the answer to stop after its current round.
  void Cancel() { cancelled_ = true; }
  // The answer or its error; valid once Wait() returned kDone.
  const Result<Answer>& result() const { return *result_; }

 private:
  void Run(std::vector<Member> members, EnsembleOptions options, std::vector<ChatMessage> messages,
           std::string raw_prompt);

  Metrics* metrics_;
  const std::atomic<bool>* stopping_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Event> events_;
  std::optional<Result<Answer>> result_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace specfuse::server
