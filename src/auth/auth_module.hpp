// The auth module: accounts, sessions, OpenID Connect sign-in, workspaces
// and roles, API keys, rate limits and the audit trail, built from its dependencies and the `auth:`
// section. Other modules see only its Guard (huntaze/auth/access.hpp).
//
// Thread-safety: construct and register during start-up; afterwards every
// member is safe from any coroutine.
#pragma once

#include <memory>

#include "auth/accounts.hpp"
#include "auth/auth_config.hpp"
#include "auth/guard.hpp"
#include "auth/oidc_login.hpp"
#include "auth/rate_limit_config.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/sessions.hpp"
#include "huntaze/http/middleware.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::auth {

struct AuthDeps {
  db::Database& db;
  redis::Redis& redis;
  Compute& compute;
  jobs::JobQueue& queue;
  const Clock& clock;
  metrics::Registry& metrics;
  http::HttpClient& http_client;  // to OpenID Connect providers
};

struct RouteDeps;

class AuthModule {
 public:
  // With no signing key configured, a random one is made (and a warning
  // logged): tokens then die with the process.
  AuthModule(AuthDeps deps, AuthConfig config);
  ~AuthModule();

  void register_routes(http::Router& router);
  // auth.prune (scheduled by the composition root) and auth.password_reset_mail.
  void register_jobs(jobs::JobRegistry& registry);
  // The per-address limit (auth.rate_limits.ip) for every request but those
  // for `exempt_paths` (see ip_rate_limit). A request whose access token
  // verifies is counted by the guard, with its user; any other up front.
  http::Middleware ip_limit(std::vector<std::string> exempt_paths = {});
  Guard& guard() noexcept { return *guard_; }
  const AuthConfig& config() const noexcept { return config_; }

 private:
  AuthDeps deps_;
  AuthConfig config_;
  std::unique_ptr<JwtCodec> jwt_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Sessions> sessions_;
  std::unique_ptr<Accounts> accounts_;
  std::unique_ptr<RequestGuard> guard_;
  std::unique_ptr<OidcLogin> oidc_;
  std::unique_ptr<RouteDeps> route_deps_;
};

}  // namespace huntaze::auth
