// The ai_router's HTTP API:
//   POST /api/v1/ai/chat/completions   OpenAI-compatible, streamed (SSE) or not; `model` = task or alias
//   GET  /api/v1/ai/models             routes, aliases and deployment health
//   GET  /api/v1/ai/usage?from=&to=    per day, task and model: calls, tokens, cost, cache hits
//
// Until accounts exist these routes are mounted on the admin listener only
// (ai.http_api), and the tenant is named by the X-Huntaze-Workspace header
// (a UUID; absent = the platform). The auth module replaces that header with
// the authenticated principal's workspace.
// Per-request cache control: `Cache-Control: no-cache` (do not read, store
// the fresh answer), `no-store` (neither), `X-Huntaze-Cache-Ttl: <seconds>`.
#pragma once

#include "huntaze/ai_router/router.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::ai_router {

struct AiApiDeps {
  AiRouter& router;
  db::Database& db;  // the usage log's table
  const Clock& clock;
};

// Everything referenced must outlive the HTTP server.
void register_ai_routes(http::Router& http_router, AiApiDeps deps);

}  // namespace huntaze::ai_router
