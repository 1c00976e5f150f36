// Browser mode: the session in cookies, with CSRF protection.
//
// Three cookies, all SameSite:
//   hz_access   the access token; HttpOnly, Path=/
//   hz_refresh  the refresh token; HttpOnly, Path=/api/v1/auth (sent only to refresh and logout)
//   hz_csrf     a random token the web app reads and echoes in X-CSRF-Token
//               on every state-changing request (double submit)
// A cookie-authenticated POST/PUT/PATCH/DELETE passes only when the header
// equals the cookie (compared in constant time) and, when the browser sends
// an Origin, that origin is allowed.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/auth_config.hpp"
#include "auth/sessions.hpp"
#include "huntaze/http/message.hpp"

namespace huntaze::auth {

inline constexpr std::string_view kAccessCookie = "hz_access";
inline constexpr std::string_view kRefreshCookie = "hz_refresh";
inline constexpr std::string_view kCsrfCookie = "hz_csrf";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";
// During an OpenID Connect sign-in: the flow's state, so that the callback
// is accepted only in the browser that started it.
inline constexpr std::string_view kOidcCookie = "hz_oidc";
inline constexpr std::string_view kOidcCookiePath = "/api/v1/auth/oidc";

// The value of cookie `name` in the request's Cookie headers; nullopt when
// absent. At most 64 cookies of 4 KiB are looked at.
std::optional<std::string_view> find_cookie(const http::Request& req, std::string_view name);

// Sets the three cookies for `tokens`; returns the CSRF token (also for the body).
std::string set_session_cookies(http::Response& res, const TokenPair& tokens, const CookieConfig& config, SysTime now);
// Expires the three cookies.
void clear_session_cookies(http::Response& res, const CookieConfig& config);

void set_oidc_state_cookie(http::Response& res, std::string_view state, std::chrono::seconds max_age,
                           const CookieConfig& config);
void clear_oidc_state_cookie(http::Response& res, const CookieConfig& config);

bool is_state_changing(std::string_view method) noexcept;
// Throws 403 csrf_failed unless the request carries the CSRF token and an
// allowed (or no) Origin.
void check_csrf(const http::Request& req, const CookieConfig& config);

}  // namespace huntaze::auth
