#include "server/metrics.h"

#include <cstdio>

namespace specfuse::server {

namespace {

std::string Format(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

std::string Counter(const std::string& name, const std::string& help, uint64_t value) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
         std::to_string(value) + "\n";
}

// One counter per member, labelled with its model name.
std::string ByMember(const std::string& name, const std::string& help,
                     const std::vector<Member>& members, uint64_t DecodeCounters::*field) {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
  for (const Member& m : members) {
    out += name + "{model=\"" + m.model->name() + "\"} " +
           std::to_string(m.model->decode_counters().*field) + "\n";
  }
  return out;
}

std::string Gauge(const std::string& name, const std::string& help, int value) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         std::to_string(value) + "\n";
}

}  // namespace

void Histogram::Observe(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  if (i < kBounds.size()) ++counts_[i];
  ++count_;
  sum_ += seconds;
}

std::string Histogram::Render(const std::string& name, const std::string& help) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + Format(kBounds[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + Format(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
  return out;
}

void Metrics::CountRequest(int http_status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[http_status];
}

void Metrics::RecordAnswer(const AnswerSummary& s) {
  std::lock_guard<std::mutex> lock(mutex_);
  prompt_tokens_ += static_cast<uint64_t>(s.prompt_tokens);
  completion_tokens_ += static_cast<uint64_t>(s.output_tokens);
  rounds_ += static_cast<uint64_t>(s.rounds);
  model_calls_ += static_cast<uint64_t>(s.model_calls);
  calls_saved_ += static_cast<uint64_t>(s.calls_saved_by_exit);
}

std::string Metrics::Render(const std::vector<Member>& members) const {
  std::string out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out += "# HELP specfuse_requests_total HTTP responses by status, every path and refusal included\n"
           "# TYPE specfuse_requests_total counter\n";
    for (const auto& [status, count] : requests_) {
      out += "specfuse_requests_total{status=\"" + std::to_string(status) + "\"} " +
             std::to_string(count) + "\n";
    }
    out += "# HELP specfuse_tokens_total Tokens processed, prompt and completion\n"
           "# TYPE specfuse_tokens_total counter\n"
           "specfuse_tokens_total{kind=\"prompt\"} " + std::to_string(prompt_tokens_) + "\n"
           "specfuse_tokens_total{kind=\"completion\"} " + std::to_string(completion_tokens_) + "\n";
    out += Counter("specfuse_rounds_total", "Ensemble rounds run", rounds_);
    out += Counter("specfuse_model_calls_total", "Draft and verify calls made", model_calls_);
    out += Counter("specfuse_calls_saved_by_exit_total",
                   "Calls that exited models would have made", calls_saved_);
  }
  out += Gauge("specfuse_queue_depth", "Requests waiting for a free slot", queue_depth.load());
  out += Gauge("specfuse_active_sequences", "Requests currently holding model sequences",
               active_sequences.load());
  out += latency_.Render("specfuse_request_latency_seconds",
                         "Time from a generation request's arrival to its last byte");
  out += first_token_.Render("specfuse_first_token_seconds",
                             "Time from a generation request's arrival to its first segment");
  out += ByMember("specfuse_decode_passes_total", "Forward passes run, by member", members,
                  &DecodeCounters::decodes);
  out += ByMember("specfuse_decode_jobs_total", "Requests' decodes served, by member", members,
                  &DecodeCounters::jobs);
  out += ByMember("specfuse_decode_merged_total", "Forward passes shared by several requests, by member",
                  members, &DecodeCounters::merged);
  return out;
}

}  // namespace specfuse::server
