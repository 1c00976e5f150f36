#include "huntaze/ai_router/router.hpp"

#include <algorithm>

namespace huntaze::ai_router {

int AiError::http_status() const noexcept {
  switch (kind_) {
    case Kind::bad_request: return 400;
    case Kind::unknown_task: return 404;
    case Kind::budget_exceeded: return 402;
    case Kind::rate_limited: return 429;
    case Kind::content_filter: return 422;
    case Kind::context_too_long: return 413;
    case Kind::unavailable: return 503;
    case Kind::deadline: return 504;
    case Kind::stream_broken: return 502;
  }
  return 500;
}

std::string_view to_string(AiError::Kind kind) noexcept {
  switch (kind) {
    case AiError::Kind::bad_request: return "bad_request";
    case AiError::Kind::unknown_task: return "unknown_task";
    case AiError::Kind::budget_exceeded: return "budget_exceeded";
    case AiError::Kind::rate_limited: return "rate_limited";
    case AiError::Kind::content_filter: return "content_filter";
    case AiError::Kind::context_too_long: return "context_too_long";
    case AiError::Kind::unavailable: return "unavailable";
    case AiError::Kind::deadline: return "deadline";
    case AiError::Kind::stream_broken: return "stream_broken";
  }
  return "unknown";
}

ApiError to_api_error(const AiError& e) {
  ApiError out(e.http_status(), std::string(to_string(e.kind())), e.what());
  if (e.retry_after()) out.with_retry_after(static_cast<int>(std::max<int64_t>(1, (e.retry_after()->count() + 999) / 1000)));
  return out;
}

}  // namespace huntaze::ai_router
