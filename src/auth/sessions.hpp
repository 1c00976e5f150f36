// Sessions: one per sign-in, each a family of rotating refresh tokens plus
// the short-lived access tokens minted from them.
//
// - start() opens a session and hands out the first token pair.
// - refresh() exchanges a refresh token for a new pair. Every token works
//   once: presenting an already-rotated token means it was copied, and the
//   whole session is revoked (audited as refresh_reuse_detected).
// - revoke*() end sessions at once: the rows are marked in PostgreSQL and
//   the session ids go on a Redis deny-list for as long as an access token
//   minted before could live, so the very next request is refused.
// - deny_key() is what the per-request check looks for in Redis (the guard
//   asks in the same script call as the rate limit); revoked_in_db() is the
//   primary-key lookup that answers while Redis is unreachable, so
//   revocation never fails open.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/audit.hpp"
#include "auth/auth_config.hpp"
#include "auth/jwt.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::auth {

struct TokenPair {
  Uuid user_id;
  Uuid session_id;
  std::string access_token;
  SysTime access_expires_at;
  std::string refresh_token;
  SysTime refresh_expires_at;
  // Sessions start() ended to stay within kMaxLiveSessions: deny() them once
  // the caller's transaction committed.
  std::vector<Uuid> capped_sessions;
};

inline constexpr int64_t kMaxLiveSessions = 100;

class Sessions {
 public:
  Sessions(db::Database& db, redis::Redis& redis, const Clock& clock, const JwtCodec& jwt, const AuthConfig& config,
           metrics::Registry& metrics);

  // Inside the caller's transaction (the login that justifies it). A user
  // keeps at most kMaxLiveSessions: the oldest beyond that are ended (their
  // ids in capped_sessions, for the caller to deny() after commit).
  boost::asio::awaitable<TokenPair> start(db::Executor& tx, Uuid user_id, std::string method,
                                          const ClientInfo& client);

  // Throws 401 invalid_token (unknown, expired or revoked) or
  // refresh_token_reused.
  boost::asio::awaitable<TokenPair> refresh(std::string_view refresh_token, const ClientInfo& client);

  // Revokes one session of `user_id`; false when it is not theirs or already ended.
  boost::asio::awaitable<bool> revoke(Uuid user_id, Uuid session_id, std::string reason, const ClientInfo& client);
  // Inside the caller's transaction; returns the sessions ended, to pass to
  // deny() after the commit. `keep`: the caller's own session, when it stays.
  boost::asio::awaitable<std::vector<Uuid>> revoke_all(db::Executor& tx, Uuid user_id, std::string reason,
                                                       std::optional<Uuid> keep = std::nullopt);
  // Puts sessions on the deny-list. A Redis failure is logged, not thrown:
  // the rows are already revoked and revoked_in_db() answers from them.
  boost::asio::awaitable<void> deny(std::vector<Uuid> session_ids);

  // The Redis key whose existence means the session was revoked.
  std::string deny_key(const Uuid& session_id) const;
  // The session row's answer (counted in huntaze_auth_revocation_db_checks_total).
  boost::asio::awaitable<bool> revoked_in_db(Uuid session_id);

  // The user's live sessions, newest first; `current` is flagged.
  boost::asio::awaitable<boost::json::array> list(Uuid user_id, std::optional<Uuid> current);

  const JwtCodec& jwt() const noexcept { return jwt_; }

 private:
  boost::asio::awaitable<TokenPair> mint(db::Executor& tx, Uuid user_id, Uuid session_id, SysTime now,
                                         SysTime session_expires_at);

  db::Database& db_;
  redis::Redis& redis_;
  const Clock& clock_;
  const JwtCodec& jwt_;
  const AuthConfig& config_;
  metrics::Counter& deny_fallbacks_;
};

}  // namespace huntaze::auth
