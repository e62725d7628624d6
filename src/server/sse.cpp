#include "server/sse.h"

namespace specfuse::server {

std::string SseEvent(const std::string& payload) { return "data: " + payload + "\n\n"; }

std::string SseDone() { return "data: [DONE]\n\n"; }

}  // namespace specfuse::server
