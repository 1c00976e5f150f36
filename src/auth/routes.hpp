// The auth module's HTTP API (documented in docs/openapi.yaml):
//
//   account_routes.cpp    /api/v1/auth/*      sign-up, verification, login, refresh, logout, passwords
//                         /api/v1/me*         the caller, their sessions and security events
//   workspace_routes.cpp  /api/v1/workspaces/{workspace_id}/*   members, invitations, API keys, audit
//                         /api/v1/invitations/accept
//   oidc_routes.cpp       /api/v1/auth/oidc/*  sign-in through OpenID Connect providers
#pragma once

#include "auth/accounts.hpp"
#include "auth/auth_config.hpp"
#include "auth/oidc_login.hpp"
#include "auth/rate_limit_config.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/sessions.hpp"
#include "huntaze/auth/access.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::auth {

struct RouteDeps {
  db::Database& db;
  jobs::JobQueue& queue;
  const Clock& clock;
  Accounts& accounts;
  Sessions& sessions;
  Guard& guard;
  RateLimiter& limiter;
  const AuthConfig& config;
  const RateLimitConfig& limits;
  OidcLogin& oidc;
};

void register_account_routes(http::Router& router, const RouteDeps& deps);
void register_workspace_routes(http::Router& router, const RouteDeps& deps);
void register_oidc_routes(http::Router& router, const RouteDeps& deps);

// Checks the rules for these subjects and throws 429 when one refuses.
boost::asio::awaitable<void> enforce(RateLimiter& limiter, std::vector<RateKey> keys);

// ?limit= (1..200, default 50) and ?cursor= of keyset-paginated lists; 400 when malformed.
struct PageParams {
  std::optional<int64_t> cursor;
  int limit = 50;
};
PageParams page_params(const http::Request& req);
boost::json::object audit_page_json(AuditPage page);

// Small JSON answers.
http::Response json_response(int status, const boost::json::object& body);

}  // namespace huntaze::auth
