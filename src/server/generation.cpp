#include "server/generation.h"

namespace specfuse::server {

Generation::Generation(std::vector<Member> members, EnsembleOptions options,
                       std::vector<ChatMessage> messages, std::string raw_prompt,
                       Metrics* metrics, const std::atomic<bool>* stopping)
    : metrics_(metrics), stopping_(stopping) {
  thread_ = std::thread(&Generation::Run, this, std::move(members), std::move(options),
                        std::move(messages), std::move(raw_prompt));
}

Generation::~Generation() {
  cancelled_ = true;
  if (thread_.joinable()) thread_.join();
}

void Generation::Run(std::vector<Member> members, EnsembleOptions options,
                     std::vector<ChatMessage> messages, std::string raw_prompt) {
  std::optional<Result<Answer>> result;
  {
    GaugeHold holding(&metrics_->active_sequences);
    Conversation conversation(std::move(members), std::move(options));
    auto on_segment = [&](const std::string& segment, const RoundTrace& round) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back({segment, RoundToJson(round)});
      }
      cv_.notify_all();
      return !cancelled_ && !(stopping_ && *stopping_);
    };
    result = raw_prompt.empty() ? conversation.Reply(messages, on_segment)
                                : conversation.Complete(raw_prompt, on_segment);
  }  // the conversation's sequences are freed before anyone hears that the answer ended
  {
    std::lock_guard<std::mutex> lock(mutex_);
    result_ = std::move(result);
    done_ = true;
  }
  cv_.notify_all();
}

Generation::Next Generation::Wait(Event* event, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty() || done_; });
  if (!events_.empty()) {
    *event = std::move(events_.front());
    events_.pop_front();
    return Next::kEvent;
  }
  return done_ ? Next::kDone : Next::kTimeout;
}

}  // namespace specfuse::server
