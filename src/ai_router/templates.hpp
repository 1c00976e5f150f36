// The `templates` provider: canned replies that need no model and no network.
// It is the last resort of the `generate` route and what a fresh install
// answers with, so the product works offline.
//
// Replies come from a TemplateSource (the content module serves the
// workspace's saved replies through it); without one, or when a workspace has
// none for the task, from built-in generic replies. The choice is stable: the
// same conversation gets the same reply.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "huntaze/ai_router/router.hpp"
#include "huntaze/ai_router/template_source.hpp"

namespace huntaze::ai_router {

// The built-in replies for a task (empty for tasks templates cannot serve).
const std::vector<std::string>& builtin_replies(std::string_view task);

// Picks one reply for the request: keyed on the workspace and the last user
// message. Returns "" when `replies` is empty.
std::string pick_reply(const AiRequest& request, const std::vector<std::string>& replies);

}  // namespace huntaze::ai_router
