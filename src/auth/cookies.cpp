#include "auth/cookies.hpp"

#include <algorithm>

#include "auth/tokens.hpp"
#include "huntaze/core/crypto.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::auth {

namespace {

constexpr size_t kMaxCookies = 64;
constexpr size_t kMaxCookieBytes = 4096;
constexpr std::string_view kCsrfPrefix = "hzc_";

std::string cookie(std::string_view name, std::string_view value, std::string_view path, int64_t max_age,
                   bool http_only, std::string_view same_site, const CookieConfig& config) {
  std::string out(name);
  out += '=';
  out += value;
  out += "; Path=";
  out += path;
  out += "; Max-Age=" + std::to_string(max_age);
  if (!config.domain.empty()) out += "; Domain=" + config.domain;
  if (config.secure) out += "; Secure";
  if (http_only) out += "; HttpOnly";
  out += "; SameSite=";
  out += same_site;
  return out;
}

int64_t seconds_until(SysTime t, SysTime now) {
  return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(t - now).count());
}

}  // namespace

std::optional<std::string_view> find_cookie(const http::Request& req, std::string_view name) {
  size_t seen = 0;
  for (const auto& [header, value] : req.headers.items()) {
    if (!http::iequals(header, "cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty() && seen < kMaxCookies) {
      const auto semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      ++seen;
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (trim(pair.substr(0, eq)) != name) continue;
      std::string_view v = trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (v.size() > kMaxCookieBytes) return std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

std::string set_session_cookies(http::Response& res, const TokenPair& tokens, const CookieConfig& config,
                                SysTime now) {
  const std::string csrf = new_token(kCsrfPrefix);
  const int64_t refresh_age = seconds_until(tokens.refresh_expires_at, now);
  // Lax for the access token so that following a link into the app keeps the
  // user signed in; Strict for the refresh token, which only the app's own
  // requests need. CSRF is stopped by the token check either way.
  res.headers.add("Set-Cookie", cookie(kAccessCookie, tokens.access_token, "/",
                                       seconds_until(tokens.access_expires_at, now), true, "Lax", config));
  res.headers.add("Set-Cookie",
                  cookie(kRefreshCookie, tokens.refresh_token, "/api/v1/auth", refresh_age, true, "Strict", config));
  res.headers.add("Set-Cookie", cookie(kCsrfCookie, csrf, "/", refresh_age, false, "Strict", config));
  res.headers.set("Cache-Control", "no-store");
  return csrf;
}

void clear_session_cookies(http::Response& res, const CookieConfig& config) {
  res.headers.add("Set-Cookie", cookie(kAccessCookie, "", "/", 0, true, "Lax", config));
  res.headers.add("Set-Cookie", cookie(kRefreshCookie, "", "/api/v1/auth", 0, true, "Strict", config));
  res.headers.add("Set-Cookie", cookie(kCsrfCookie, "", "/", 0, false, "Strict", config));
}

void set_oidc_state_cookie(http::Response& res, std::string_view state, std::chrono::seconds max_age,
                           const CookieConfig& config) {
  // Lax: the callback arrives as a top-level navigation from the provider's
  // site, which a Strict cookie would not accompany.
  res.headers.add("Set-Cookie", cookie(kOidcCookie, state, kOidcCookiePath, max_age.count(), true, "Lax", config));
}

void clear_oidc_state_cookie(http::Response& res, const CookieConfig& config) {
  res.headers.add("Set-Cookie", cookie(kOidcCookie, "", kOidcCookiePath, 0, true, "Lax", config));
}

bool is_state_changing(std::string_view method) noexcept {
  return !(method == "GET" || method == "HEAD" || method == "OPTIONS");
}

void check_csrf(const http::Request& req, const CookieConfig& config) {
  auto header = req.headers.get(kCsrfHeader);
  auto cookie_value = find_cookie(req, kCsrfCookie);
  if (!header || !cookie_value || cookie_value->empty() || !crypto::constant_time_equal(*header, *cookie_value))
    throw ApiError(403, "csrf_failed", "cookie-authenticated requests that change state need the X-CSRF-Token header");
  if (auto origin = req.headers.get("origin")) {
    const bool allowed = std::find(config.allowed_origins.begin(), config.allowed_origins.end(), *origin) !=
                         config.allowed_origins.end();
    if (!allowed) throw ApiError(403, "csrf_failed", "requests from this origin may not use the session cookie");
  }
}

}  // namespace huntaze::auth
