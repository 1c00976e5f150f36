// The Guard of huntaze/auth/access.hpp: credentials → principal → rate
// limit → workspace and role.
//
// Per request, a user costs one JWT check (no I/O), one Redis script call
// for the rate limit and the session deny-list together, and one
// primary-key lookup of the membership; an API key costs a lookup by hash
// instead of the JWT.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <optional>
#include <string_view>
#include "auth/auth_config.hpp"
#include "auth/rate_limit_config.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/sessions.hpp"
#include "huntaze/auth/access.hpp"

namespace huntaze::auth {

class RequestGuard final : public Guard {
 public:
  RequestGuard(db::Database& db, Sessions& sessions, RateLimiter& limiter, const Clock& clock,
               const AuthConfig& config, const RateLimitConfig& limits);

  boost::asio::awaitable<Access> require(http::Request& req, const Requirement& need) override;

 private:
  boost::asio::awaitable<Access> authenticate(http::Request& req, const Requirement& need);
  boost::asio::awaitable<Principal> api_key(std::string_view key, const Requirement& need, Uuid& workspace,
                                            bool& platform_admin);
  boost::asio::awaitable<void> resolve_workspace(http::Request& req, const Requirement& need, Access& access);

  db::Database& db_;
  Sessions& sessions_;
  RateLimiter& limiter_;
  const Clock& clock_;
  const AuthConfig& config_;
  const RateLimitConfig& limits_;
};

// Where a request came from, for sessions and audit rows.
ClientInfo client_info(const http::Request& req);

// The token of an "Authorization: Bearer <token>" value, spaces and tabs
// trimmed; nullopt when the value is not a Bearer one.
std::optional<std::string_view> bearer_value(std::string_view authorization);

// The credential a request presents, read in one place for the guard and
// the per-address limit (which must agree on what is an API key): the
// Authorization header first, else a non-empty access cookie. nullopt when
// there is neither; `malformed` when the header is not "Bearer <token>".
// The view points into the request.
struct PresentedToken {
  std::string_view token;
  bool via_cookie = false;
  bool malformed = false;
  bool api_key() const;  // a Bearer hzk_ key (cookies never carry keys)
};
std::optional<PresentedToken> presented_token(const http::Request& req);

}  // namespace huntaze::auth
