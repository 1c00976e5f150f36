// Typed errors that cross module boundaries.
//
// ApiError is the expected failure of an API call: it carries the HTTP status
// and the stable snake_case code of the JSON error body (DESIGN.md §5). Throw
// it from anywhere below a request handler; the HTTP error middleware turns it
// into a response. Anything else that escapes a handler is an unexpected
// failure: logged once and answered with 500 internal_error.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace huntaze {

struct ErrorDetail {
  std::string field;    // JSON pointer or parameter name, may be empty
  std::string message;  // human text
};

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message, std::vector<ErrorDetail> details = {})
      : std::runtime_error(message), status_(status), code_(std::move(code)), details_(std::move(details)) {}

  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const std::vector<ErrorDetail>& details() const noexcept { return details_; }

  // Seconds for Retry-After on 429/503; 0 when not set.
  int retry_after() const noexcept { return retry_after_; }
  ApiError& with_retry_after(int seconds) {
    retry_after_ = seconds;
    return *this;
  }

  static ApiError bad_request(std::string message, std::vector<ErrorDetail> details = {}) {
    return {400, "invalid_request", std::move(message), std::move(details)};
  }
  static ApiError not_found(std::string message = "not found") { return {404, "not_found", std::move(message)}; }
  static ApiError conflict(std::string message) { return {409, "conflict", std::move(message)}; }
  static ApiError unavailable(std::string code, std::string message) {
    return {503, std::move(code), std::move(message)};
  }

 private:
  int status_;
  std::string code_;
  std::vector<ErrorDetail> details_;
  int retry_after_ = 0;
};

}  // namespace huntaze
