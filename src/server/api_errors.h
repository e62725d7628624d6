// Errors in OpenAI's JSON shape: {"error": {"message", "type", "param", "code"}}, with the
// HTTP status that goes with them.
#pragma once

#include <string>

#include "specfuse/status.h"

namespace specfuse::server {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // "" = null
  std::string code;   // "" = null

  // {"error": {...}} on one line.
  std::string ToJson() const;
};

// 400 invalid_request_error naming the offending request field.
ApiError BadRequest(std::string message, std::string param = "");

// The HTTP view of an engine error: a prompt longer than the context is 400
// context_length_exceeded, a busy backend 503, a failure of ours 500.
ApiError FromStatus(const Status& status);

}  // namespace specfuse::server
