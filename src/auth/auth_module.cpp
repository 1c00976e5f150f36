#include "auth/auth_module.hpp"

#include "auth/maintenance.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/routes.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/jobs/job.hpp"

#include <boost/json.hpp>

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
  oidc_ = std::make_unique<OidcLogin>(deps_.db, deps_.http_client, deps_.clock, *sessions_, config_, deps_.metrics);
}

AuthModule::~AuthModule() = default;

void AuthModule::register_routes(http::Router& router) {
  // The routes keep a pointer to these, owned here: the module outlives the server.
  route_deps_ = std::make_unique<RouteDeps>(RouteDeps{deps_.db, deps_.queue, deps_.clock, *accounts_, *sessions_,
                                                      *guard_, *limiter_, config_, config_.rate_limits,
                                                      *oidc_});
  register_account_routes(router, *route_deps_);
  register_workspace_routes(router, *route_deps_);
  register_oidc_routes(router, *route_deps_);
}

void AuthModule::register_jobs(jobs::JobRegistry& registry) {
  registry.add(
      kPruneKind,
      [this](jobs::JobContext& job) -> boost::asio::awaitable<void> {
        co_await prune_auth(deps_.db, deps_.clock.now(), config_, &job);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 5}});
  registry.add(
      kResetMailKind,
      [this](jobs::JobContext& job) -> boost::asio::awaitable<void> {
        const auto* payload = job.payload().if_object();
        auto text = [&](const char* key) -> std::string {
          const auto* v = payload ? payload->if_contains(key) : nullptr;
          return v && v->is_string() ? std::string(v->get_string()) : std::string();
        };
        const std::string email = text("email");
        if (email.empty()) throw jobs::DiscardJob("auth.password_reset_mail: no email in the payload");
        ClientInfo client{text("ip"), text("user_agent"), text("request_id")};
        co_await accounts_->send_reset_mail(email, client);
      },
      jobs::KindOptions{.queue = "default", .policy = jobs::RetryPolicy{.max_attempts = 10}});
}

http::Middleware AuthModule::ip_limit(std::vector<std::string> exempt_paths) {
  // The guard's own check, without I/O: only a token the guard will accept
  // has its address counted there (the module outlives the middleware).
  SessionTokenCheck verifies = [jwt = jwt_.get(), clock = &deps_.clock](std::string_view token) {
    return std::holds_alternative<AccessClaims>(jwt->verify(token, clock->now()));
  };
  return ip_rate_limit(*limiter_, config_.rate_limits.ip, std::move(exempt_paths), std::move(verifies));
}

}  // namespace huntaze::auth
