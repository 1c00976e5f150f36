// The `auth:` section: token keys and lifetimes, password hashing cost,
// cookie mode, email links, rate limits and OpenID Connect providers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "auth/jwt.hpp"
#include "auth/oidc_config.hpp"
#include "auth/passwords.hpp"
#include "auth/rate_limit_config.hpp"
#include "huntaze/core/config.hpp"

namespace huntaze::auth {

struct CookieConfig {
  // Secure cookies are sent over HTTPS only; turn off for plain-HTTP local development.
  bool secure = true;
  std::string domain;  // empty: host-only cookies
  // Origins allowed to make cookie-authenticated state-changing requests;
  // the Origin header must be one of them (CSRF defence beside the token).
  // Empty in the file: the origin of public_url.
  std::vector<std::string> allowed_origins;
  bool operator==(const CookieConfig&) const = default;
};

struct AuthConfig {
  // Signing keys in file order: the first signs, all verify. Empty: a random
  // key per process (tokens die with the process; fine for development only).
  JwtConfig jwt;
  std::chrono::seconds access_ttl{std::chrono::minutes(15)};
  std::chrono::seconds refresh_ttl{std::chrono::days(30)};       // idle: each refresh extends it
  std::chrono::seconds session_max_age{std::chrono::days(90)};   // absolute
  PasswordParams password;
  // Login waits for the email address to be verified (prevents taking an
  // address over before its owner signs up).
  bool require_verified_email = true;
  std::chrono::seconds verify_ttl{std::chrono::hours(48)};
  std::chrono::seconds reset_ttl{std::chrono::hours(1)};
  std::chrono::seconds invite_ttl{std::chrono::days(7)};
  // Where the web app lives: the start of the links in emails.
  std::string public_url = "http://localhost:8080";
  CookieConfig cookies;
  RateLimitConfig rate_limits;
  OidcConfig oidc;  // an empty redirect_base stands for public_url
};

AuthConfig parse_auth_config(config::Node section);

}  // namespace huntaze::auth
