// Server-sent events framing, as OpenAI streams it: each event is "data: <json>\n\n" and
// the stream ends with "data: [DONE]\n\n".
#pragma once

#include <string>

namespace specfuse::server {

// One event carrying payload (JSON on one line; it must hold no newline).
std::string SseEvent(const std::string& payload);
// The event that ends an OpenAI stream.
std::string SseDone();

}  // namespace specfuse::server
