#include "content/api.hpp"

#include "huntaze/core/error.hpp"

namespace huntaze::content {

ApiError ai_failure(const ai_router::AiError& e) {
  if (e.kind() == ai_router::AiError::Kind::unknown_task)
    return ApiError::unavailable("ai_not_configured", std::string("the AI routes are not configured: ") + e.what());
  return ai_router::to_api_error(e);
}

}  // namespace huntaze::content
