#include "auth/sessions.hpp"

#include <boost/json.hpp>

#include "auth/tokens.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

ApiError invalid_token(std::string message = "the token is invalid, expired or revoked") {
  return ApiError(401, "invalid_token", std::move(message));
}

}  // namespace

Sessions::Sessions(db::Database& db, redis::Redis& redis, const Clock& clock, const JwtCodec& jwt,
                   const AuthConfig& config, metrics::Registry& metrics)
    : db_(db),
      redis_(redis),
      clock_(clock),
      jwt_(jwt),
      config_(config),
      deny_fallbacks_(metrics
                          .counter("huntaze_auth_revocation_db_checks_total",
                                   "Session revocation checks answered by PostgreSQL because Redis was unreachable")
                          .with({})) {}

std::string Sessions::deny_key(const Uuid& session_id) const { return "auth:deny:" + session_id.str(); }

asio::awaitable<TokenPair> Sessions::mint(db::Executor& tx, Uuid user_id, Uuid session_id, SysTime now,
                                          SysTime session_expires_at) {
  TokenPair pair;
  pair.user_id = user_id;
  pair.session_id = session_id;
  pair.refresh_token = new_token(kRefreshPrefix);
  pair.refresh_expires_at = std::min(now + config_.refresh_ttl, session_expires_at);
  co_await tx.query(
      "INSERT INTO auth.refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
      token_hash(pair.refresh_token), session_id, db::Timestamp(now), db::Timestamp(pair.refresh_expires_at));
  AccessClaims claims;
  claims.subject = user_id.str();
  claims.session = session_id.str();
  claims.token_id = Uuid::v7().str();
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires_at = now + config_.access_ttl;
  pair.access_token = jwt_.sign(claims);
  pair.access_expires_at = claims.expires_at;
  co_return pair;
}

asio::awaitable<TokenPair> Sessions::start(db::Executor& tx, Uuid user_id, std::string method,
                                           const ClientInfo& client) {
  const SysTime now = clock_.now();
  const Uuid session_id = Uuid::v7();
  const SysTime expires_at = now + config_.session_max_age;
  co_await tx.query(
      "INSERT INTO auth.sessions (id, user_id, method, user_agent, ip, created_at, last_used_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
      session_id, user_id, method, client.user_agent, client.ip, db::Timestamp(now), db::Timestamp(expires_at));
  auto capped = co_await tx.query(
      "UPDATE auth.sessions SET revoked_at = $2, revoked_reason = 'session_limit' WHERE id IN "
      "(SELECT id FROM auth.sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC OFFSET $3) "
      "RETURNING id",
      user_id, db::Timestamp(now), kMaxLiveSessions);
  TokenPair pair = co_await mint(tx, user_id, session_id, now, expires_at);
  for (const auto& row : capped) pair.capped_sessions.push_back(row.get<Uuid>(0));
  co_return pair;
}

asio::awaitable<TokenPair> Sessions::refresh(std::string_view refresh_token, const ClientInfo& client) {
  if (!well_formed_token(refresh_token, kRefreshPrefix)) throw invalid_token();
  const db::Bytes hash = token_hash(refresh_token);
  const SysTime now = clock_.now();
  std::optional<Uuid> reused_session;
  std::optional<Uuid> reused_user;
  std::optional<TokenPair> pair;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    // Row locks on the token and its session serialize concurrent uses of
    // one token: the second sees rotated_at and counts as reuse.
    auto rows = co_await tx.query(
        "SELECT t.session_id, t.expires_at, t.rotated_at, s.user_id, s.revoked_at, s.expires_at "
        "FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id "
        "WHERE t.token_hash = $1 FOR UPDATE OF t, s",
        hash);
    if (rows.empty()) co_return;
    const auto row = rows.front();
    const Uuid session_id = row.get<Uuid>(0);
    const Uuid user_id = row.get<Uuid>(3);
    if (!row.is_null(4)) co_return;  // the session already ended
    if (!row.is_null(2)) {
      co_await tx.query(
          "UPDATE auth.sessions SET revoked_at = $2, revoked_reason = 'refresh_reuse' WHERE id = $1", session_id,
          db::Timestamp(now));
      AuditEvent event{.event = "refresh_reuse_detected", .user_id = user_id};
      event.details["session_id"] = session_id.str();
      co_await record_audit(tx, now, client, event);
      reused_session = session_id;
      reused_user = user_id;
      co_return;
    }
    if (row.get<db::Timestamp>(1) <= now) co_return;
    const SysTime session_expires_at = row.get<db::Timestamp>(5);
    co_await tx.query("UPDATE auth.refresh_tokens SET rotated_at = $2 WHERE token_hash = $1", hash, db::Timestamp(now));
    co_await tx.query("UPDATE auth.sessions SET last_used_at = $2 WHERE id = $1", session_id, db::Timestamp(now));
    pair = co_await mint(tx, user_id, session_id, now, session_expires_at);
  });
  if (reused_session) {
    std::vector<Uuid> ids{*reused_session};
    co_await deny(std::move(ids));
    log::warn("refresh token reused; session revoked",
              {{"session_id", reused_session->str()}, {"user_id", reused_user->str()}, {"ip", client.ip}});
    throw ApiError(401, "refresh_token_reused", "this refresh token was already used; the session has been revoked");
  }
  if (!pair) throw invalid_token();
  co_return std::move(*pair);
}

asio::awaitable<bool> Sessions::revoke(Uuid user_id, Uuid session_id, std::string reason, const ClientInfo& client) {
  const SysTime now = clock_.now();
  bool revoked = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto res = co_await tx.query(
        "UPDATE auth.sessions SET revoked_at = $3, revoked_reason = $4 "
        "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        session_id, user_id, db::Timestamp(now), reason);
    revoked = res.affected() == 1;
    if (!revoked) co_return;
    AuditEvent event{.event = "session_revoked", .user_id = user_id};
    event.details["session_id"] = session_id.str();
    event.details["reason"] = reason;
    co_await record_audit(tx, now, client, event);
  });
  if (revoked) {
    std::vector<Uuid> ids{session_id};
    co_await deny(std::move(ids));
  }
  co_return revoked;
}

asio::awaitable<std::vector<Uuid>> Sessions::revoke_all(db::Executor& tx, Uuid user_id, std::string reason,
                                                        std::optional<Uuid> keep) {
  const Uuid kept = keep.value_or(Uuid{});
  auto rows = co_await tx.query(
      "UPDATE auth.sessions SET revoked_at = $2, revoked_reason = $3 "
      "WHERE user_id = $1 AND revoked_at IS NULL AND id <> $4 RETURNING id",
      user_id, db::Timestamp(clock_.now()), reason, kept);
  std::vector<Uuid> ids;
  for (const auto& row : rows) ids.push_back(row.get<Uuid>(0));
  co_return ids;
}

asio::awaitable<void> Sessions::deny(std::vector<Uuid> session_ids) {
  if (session_ids.empty()) co_return;
  // As long as any access token of the session may still verify.
  const auto ttl = std::chrono::duration_cast<std::chrono::milliseconds>(config_.access_ttl + config_.jwt.leeway) +
                   std::chrono::seconds(1);
  std::vector<redis::Command> commands;
  for (const auto& id : session_ids) commands.push_back({"SET", deny_key(id), "1", "PX", std::to_string(ttl.count())});
  std::string error;
  try {
    co_await redis_.pipeline(std::move(commands));
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!error.empty())
    log::warn("session deny-list not written; PostgreSQL answers revocation checks until Redis is back",
              {{"sessions", static_cast<int64_t>(session_ids.size())}, {"error", error}});
}

asio::awaitable<bool> Sessions::revoked_in_db(Uuid session_id) {
  deny_fallbacks_.inc();
  auto rows = co_await db_.query("SELECT revoked_at IS NOT NULL FROM auth.sessions WHERE id = $1", session_id);
  co_return rows.empty() || rows.front().get<bool>(0);
}

asio::awaitable<json::array> Sessions::list(Uuid user_id, std::optional<Uuid> current) {
  auto rows = co_await db_.query(
      "SELECT id, method, user_agent, ip, created_at, last_used_at, expires_at FROM auth.sessions "
      "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 200",
      user_id, db::Timestamp(clock_.now()));
  json::array out;
  for (const auto& row : rows) {
    const Uuid id = row.get<Uuid>(0);
    out.push_back(json::object{{"id", id.str()},
                               {"method", row.get<std::string>(1)},
                               {"user_agent", row.get<std::string>(2)},
                               {"ip", row.get<std::string>(3)},
                               {"created_at", format_iso8601(row.get<db::Timestamp>(4))},
                               {"last_used_at", format_iso8601(row.get<db::Timestamp>(5))},
                               {"expires_at", format_iso8601(row.get<db::Timestamp>(6))},
                               {"current", current && *current == id}});
  }
  co_return out;
}

}  // namespace huntaze::auth
