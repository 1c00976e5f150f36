#include "auth/auth_module.hpp"

#include "auth/rate_limit_http.hpp"
#include "auth/routes.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/log.hpp"

namespace huntaze::auth {

namespace {

JwtConfig with_a_key(JwtConfig jwt) {
  if (!jwt.keys.empty()) return jwt;
  log::warn("auth.jwt.keys is empty: signing with a random key; sessions end at restart and other instances "
            "cannot verify them. Configure a key for production.");
  jwt.keys.push_back({"ephemeral", Secret(crypto::base64url_encode(crypto::random_bytes(32)))});
  return jwt;
}

}  // namespace

AuthModule::AuthModule(AuthDeps deps, AuthConfig config) : deps_(deps), config_(std::move(config)) {
  config_.jwt = with_a_key(std::move(config_.jwt));
  jwt_ = std::make_unique<JwtCodec>(config_.jwt);
  limiter_ = std::make_unique<RateLimiter>(deps_.redis, deps_.clock, deps_.metrics);
  sessions_ = std::make_unique<Sessions>(deps_.db, deps_.redis, deps_.clock, *jwt_, config_, deps_.metrics);
  accounts_ = std::make_unique<Accounts>(deps_.db, deps_.compute, deps_.queue, deps_.clock, *sessions_, config_);
  guard_ = std::make_unique<RequestGuard>(deps_.db, *sessions_, *limiter_, deps_.clock, config_, config_.rate_limits);
}

AuthModule::~AuthModule() = default;

void AuthModule::register_routes(http::Router& router) {
  // The routes keep a pointer to these, owned here: the module outlives the server.
  route_deps_ = std::make_unique<RouteDeps>(RouteDeps{deps_.db, deps_.queue, deps_.clock, *accounts_, *sessions_,
                                                      *guard_, *limiter_, config_, config_.rate_limits});
  register_account_routes(router, *route_deps_);
  register_workspace_routes(router, *route_deps_);
}

http::Middleware AuthModule::ip_limit() { return ip_rate_limit(*limiter_, config_.rate_limits.ip); }

}  // namespace huntaze::auth
