#include "server/api_errors.h"

#include <nlohmann/json.hpp>

namespace specfuse::server {

std::string ApiError::ToJson() const {
  nlohmann::json e = {{"message", message},
                      {"type", type},
                      {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                      {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}};
  return nlohmann::json{{"error", e}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError BadRequest(std::string message, std::string param) {
  ApiError e;
  e.http_status = 400;
  e.message = std::move(message);
  e.param = std::move(param);
  return e;
}

ApiError FromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  switch (status.code()) {
    case ErrorCode::kOk:
    case ErrorCode::kInvalidArgument:
      e.http_status = 400;
      break;
    case ErrorCode::kContextOverflow:
      e.http_status = 400;
      e.code = "context_length_exceeded";
      e.param = "messages";
      break;
    case ErrorCode::kNotFound:
      e.http_status = 404;
      e.code = "not_found";
      break;
    case ErrorCode::kCancelled:
      // nginx's "client closed request"; only a log ever sees it.
      e.http_status = 499;
      e.type = "cancelled";
      break;
    case ErrorCode::kUnavailable:
      e.http_status = 503;
      e.type = "server_error";
      e.code = "unavailable";
      break;
    case ErrorCode::kInvalidModel:
    case ErrorCode::kInternal:
      e.http_status = 500;
      e.type = "server_error";
      break;
  }
  return e;
}

}  // namespace specfuse::server
