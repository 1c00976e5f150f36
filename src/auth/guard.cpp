#include "auth/guard.hpp"

#include "auth/cookies.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/tokens.hpp"
#include "huntaze/core/strings.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;

namespace {

ApiError unauthenticated() {
  return ApiError(401, "unauthenticated", "sign in first: send an access token or an API key");
}
ApiError invalid_token(std::string message) { return ApiError(401, "invalid_token", std::move(message)); }
ApiError forbidden(std::string message) { return ApiError(403, "forbidden", std::move(message)); }
ApiError workspace_not_found() { return ApiError::not_found("workspace not found"); }

Scopes scopes_of(const std::vector<std::string>& names) {
  Scopes out = 0;
  for (const auto& n : names)
    if (auto s = parse_scope(n)) out |= *s;
  return out;
}

bool allows(Scopes have, Scope need) { return (have & need) != 0 || (have & scope_admin) != 0; }

// The workspace the request names: path parameter first, then header.
std::optional<Uuid> named_workspace(const http::Request& req) {
  const std::string_view in_path = req.param("workspace_id");
  if (!in_path.empty()) {
    auto id = Uuid::parse(in_path);
    if (!id) throw workspace_not_found();
    return id;
  }
  auto header = req.headers.get("x-huntaze-workspace");
  if (!header || header->empty()) return std::nullopt;
  auto id = Uuid::parse(*header);
  if (!id) throw ApiError(400, "invalid_workspace", "X-Huntaze-Workspace must be a UUID");
  return id;
}

}  // namespace

ClientInfo client_info(const http::Request& req) {
  ClientInfo info;
  info.ip = req.remote_address;
  if (auto ua = req.headers.get("user-agent")) info.user_agent = clean_utf8(*ua, 256);
  info.request_id = req.request_id;
  return info;
}

RequestGuard::RequestGuard(db::Database& db, Sessions& sessions, RateLimiter& limiter, const Clock& clock,
                           const AuthConfig& config, const RateLimitConfig& limits)
    : db_(db), sessions_(sessions), limiter_(limiter), clock_(clock), config_(config), limits_(limits) {}

asio::awaitable<Principal> RequestGuard::api_key(std::string_view key, const Requirement& need, Uuid& workspace,
                                                 bool& platform_admin) {
  if (!well_formed_token(key, kApiKeyPrefix)) throw invalid_token("the API key is malformed");
  const SysTime now = clock_.now();
  auto rows = co_await db_.query(
      "SELECT k.id, k.workspace_id, k.scopes, k.expires_at, k.revoked_at IS NOT NULL, k.last_used_at, "
      "w.platform_admin FROM auth.api_keys k JOIN auth.workspaces w ON w.id = k.workspace_id WHERE k.key_hash = $1",
      token_hash(key));
  if (rows.empty()) throw invalid_token("the API key is unknown or revoked");
  const auto row = rows.front();
  auto expires_at = row.get<std::optional<db::Timestamp>>(3);
  if (row.get<bool>(4) || (expires_at && *expires_at <= now)) throw invalid_token("the API key is revoked or expired");
  Principal p;
  p.api_key_id = row.get<Uuid>(0);
  p.scopes = scopes_of(row.get<std::vector<std::string>>(2));
  workspace = row.get<Uuid>(1);
  platform_admin = row.get<bool>(6);
  if (!need.scope) throw forbidden("this route is for signed-in users, not API keys");
  if (!allows(p.scopes, *need.scope))
    throw ApiError(403, "insufficient_scope", "the API key needs the '" + std::string(to_string(*need.scope)) +
                                                  "' scope");
  // last_used_at is for people deciding which keys to revoke: minute
  // precision is plenty and saves a write per request.
  auto last_used = row.get<std::optional<db::Timestamp>>(5);
  if (!last_used || now - *last_used > std::chrono::minutes(1))
    co_await db_.query("UPDATE auth.api_keys SET last_used_at = $2 WHERE id = $1", p.api_key_id, db::Timestamp(now));
  co_return p;
}

std::optional<std::string_view> bearer_value(std::string_view authorization) {
  if (authorization.size() < 7 || !http::iequals(authorization.substr(0, 7), "bearer ")) return std::nullopt;
  return trim(authorization.substr(7));
}

bool PresentedToken::api_key() const { return !via_cookie && !malformed && token.starts_with(kApiKeyPrefix); }

std::optional<PresentedToken> presented_token(const http::Request& req) {
  if (auto authz = req.headers.get("authorization")) {
    auto bearer = bearer_value(*authz);
    if (!bearer) return PresentedToken{.malformed = true};
    return PresentedToken{.token = *bearer};
  }
  if (auto cookie = find_cookie(req, kAccessCookie); cookie && !cookie->empty()) {
    return PresentedToken{.token = *cookie, .via_cookie = true};
  }
  return std::nullopt;
}

asio::awaitable<Access> RequestGuard::authenticate(http::Request& req, const Requirement& need) {
  const auto presented = presented_token(req);
  if (!presented) throw unauthenticated();
  if (presented->malformed) throw invalid_token("the Authorization header must be 'Bearer <token>'");
  const std::string_view token = presented->token;
  const bool via_cookie = presented->via_cookie;
  Access access;
  Principal& p = access.principal;
  if (presented->api_key()) {
    bool platform_admin = false;
    // An API key acts in its own workspace.
    p = co_await api_key(token, need, access.workspace_id, platform_admin);
    if (need.platform_admin && !(platform_admin && (p.scopes & scope_admin)))
      throw forbidden("operator routes need an admin key of a platform-admin workspace");
    co_return access;
  }
  auto verified = sessions_.jwt().verify(token, clock_.now());
  if (const auto* error = std::get_if<JwtError>(&verified))
    throw invalid_token("the access token is not valid: " + std::string(to_string(*error)));
  const auto& claims = std::get<AccessClaims>(verified);
  auto user = Uuid::parse(claims.subject);
  auto session = Uuid::parse(claims.session);
  if (!user || !session) throw invalid_token("the access token is not valid: missing_claim");
  if (via_cookie && is_state_changing(req.method)) check_csrf(req, config_.cookies);
  // Revocation is checked in require(), with the rate limit.
  p.user_id = *user;
  p.session_id = *session;
  p.via_cookie = via_cookie;
  co_return access;
}

asio::awaitable<void> RequestGuard::resolve_workspace(http::Request& req, const Requirement& need, Access& access) {
  const Principal& p = access.principal;
  if (need.platform_admin) {
    if (p.is_api_key()) co_return;  // checked with the key
    auto rows = co_await db_.query(
        "SELECT 1 FROM auth.memberships m JOIN auth.workspaces w ON w.id = m.workspace_id "
        "WHERE m.user_id = $1 AND m.role = 'owner' AND w.platform_admin LIMIT 1",
        p.user_id);
    if (rows.empty()) throw forbidden("operator routes need the owner role in a platform-admin workspace");
    access.role = Role::owner;
    co_return;
  }
  if (!need.workspace) co_return;
  const std::optional<Uuid> named = named_workspace(req);
  if (p.is_api_key()) {
    if (named && *named != access.workspace_id) throw workspace_not_found();
    access.role = (p.scopes & scope_admin) ? Role::owner : Role::viewer;
    co_return;
  }
  if (named) {
    auto rows = co_await db_.query("SELECT role FROM auth.memberships WHERE workspace_id = $1 AND user_id = $2",
                                   *named, p.user_id);
    if (rows.empty()) throw workspace_not_found();
    access.workspace_id = *named;
    access.role = parse_role(rows.front().get<std::string>(0)).value_or(Role::viewer);
  } else {
    auto rows = co_await db_.query("SELECT workspace_id, role FROM auth.memberships WHERE user_id = $1 LIMIT 2",
                                   p.user_id);
    if (rows.size() != 1)
      throw ApiError(400, "workspace_required", rows.empty() ? "you are not a member of any workspace"
                                                             : "name the workspace in the X-Huntaze-Workspace header");
    access.workspace_id = rows.front().get<Uuid>(0);
    access.role = parse_role(rows.front().get<std::string>(1)).value_or(Role::viewer);
  }
  if (access.role < need.role)
    throw forbidden("this needs the " + std::string(to_string(need.role)) + " role in the workspace");
}

asio::awaitable<Access> RequestGuard::require(http::Request& req, const Requirement& need) {
  Access access = co_await authenticate(req, need);
  const std::string subject =
      access.principal.is_api_key() ? "key:" + access.principal.api_key_id.str() : access.principal.user_id.str();
  std::vector<RateKey> keys{RateKey{&limits_.user, subject}};
  // The per-address rule, when the limit middleware left it to us (only for
  // a token that verified: a bad one is counted by the middleware).
  if (req.address_limit_deferred) {
    keys.push_back(RateKey{&limits_.ip, ip_subject(req.remote_address)});
    req.address_limit_deferred = false;
  }
  // A user's session deny-list entry rides in the rate limit's script call:
  // one Redis round trip for both. When the limiter could not ask Redis, the
  // session row answers instead, so revocation never fails open.
  const bool user = !access.principal.is_api_key();
  std::vector<std::string> deny;
  if (user) deny.push_back(sessions_.deny_key(access.principal.session_id));
  const RateDecision decision = co_await limiter_.check(std::move(keys), 1, std::move(deny));
  bool revoked = decision.denied;
  if (user && decision.local) revoked = co_await sessions_.revoked_in_db(access.principal.session_id);
  if (revoked) throw invalid_token("the session has ended; sign in again");
  if (!decision.allowed) throw RateLimitedError(decision);
  access.rate_limit = decision.limit;
  access.rate_remaining = decision.remaining;
  access.rate_reset_seconds = (decision.reset.count() + 999) / 1000;
  co_await resolve_workspace(req, need, access);
  co_return access;
}

}  // namespace huntaze::auth
