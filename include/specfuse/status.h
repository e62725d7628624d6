// Errors as values: every fallible call in the public API returns a Status or a
// Result<T>. Exceptions never cross the library boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace specfuse {

// What went wrong, coarsely; the message says what to fix.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // bad option, malformed input
  kNotFound,          // missing file or model
  kInvalidModel,      // not a GGUF file, truncated, unsupported
  kContextOverflow,   // prompt or answer longer than the context
  kCancelled,         // the caller asked to stop
  kUnavailable,       // a remote member is unreachable or timed out
  kInternal,          // a backend failed unexpectedly
};

const char* ErrorCodeName(ErrorCode code);

// A Status is either ok or an error code with a message a user can act on.
class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorCode code, std::string message) {
    Status s;
    s.code_ = code;
    s.message_ = std::move(message);
    return s;
  }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<code name>: <message>", or "ok".
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result built from a Status must carry an error");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace specfuse
