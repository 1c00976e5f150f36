#include "auth/maintenance.hpp"

#include "huntaze/core/log.hpp"
#include "huntaze/jobs/batched_delete.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;

namespace {

constexpr auto kTokenGrace = std::chrono::hours(24);
constexpr auto kKeepEnded = std::chrono::days(30);

}  // namespace

asio::awaitable<PruneCounts> prune_auth(db::Database& db, SysTime now, const AuthConfig& config, jobs::JobContext* job,
                                        int64_t batch) {
  PruneCounts n;
  const db::Timestamp token_cutoff(now - kTokenGrace);
  const db::Timestamp ended_cutoff(now - kKeepEnded);

  db::Params p1{token_cutoff};
  n.refresh_tokens = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM auth.refresh_tokens WHERE token_hash IN "
      "(SELECT token_hash FROM auth.refresh_tokens WHERE expires_at < $1 LIMIT $2)",
      std::move(p1), batch, job);
  db::Params p2{token_cutoff};
  n.email_tokens = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM auth.email_tokens WHERE token_hash IN "
      "(SELECT token_hash FROM auth.email_tokens WHERE expires_at < $1 LIMIT $2)",
      std::move(p2), batch, job);
  db::Params p3{ended_cutoff};
  n.sessions = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM auth.sessions WHERE id IN (SELECT id FROM auth.sessions WHERE expires_at < $1 "
      "UNION ALL SELECT id FROM auth.sessions WHERE revoked_at < $1 LIMIT $2)",
      std::move(p3), batch, job);
  db::Params p4{ended_cutoff};
  n.invitations = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM auth.invitations WHERE id IN (SELECT id FROM auth.invitations "
      "WHERE accepted_at IS NULL AND expires_at < $1 LIMIT $2)",
      std::move(p4), batch, job);

  db::Params p5{db::Timestamp(now)};
  n.oidc_flows = co_await jobs::delete_in_batches(
      db,
      "DELETE FROM auth.oidc_flows WHERE state_hash IN "
      "(SELECT state_hash FROM auth.oidc_flows WHERE expires_at < $1 LIMIT $2)",
      std::move(p5), batch, job);

  if (config.require_verified_email) {
    const db::Timestamp unverified_cutoff(now - config.verify_ttl - kTokenGrace);
    for (;;) {
      int64_t deleted = 0;
      co_await db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
        auto rows = co_await tx.query(
            "SELECT u.id FROM auth.users u WHERE u.email_verified_at IS NULL AND u.created_at < $1 "
            "AND NOT EXISTS (SELECT 1 FROM auth.identities i WHERE i.user_id = u.id) LIMIT $2 FOR UPDATE SKIP LOCKED",
            unverified_cutoff, batch);
        std::vector<Uuid> ids;
        for (const auto& r : rows) ids.push_back(r.get<Uuid>(0));
        if (ids.empty()) co_return;
        // Their workspaces go with them unless someone else is a member.
        co_await tx.query(
            "DELETE FROM auth.workspaces w WHERE w.id IN "
            "(SELECT workspace_id FROM auth.memberships WHERE user_id = ANY($1)) "
            "AND NOT EXISTS (SELECT 1 FROM auth.memberships o WHERE o.workspace_id = w.id "
            "AND NOT (o.user_id = ANY($1)))",
            ids);
        auto res = co_await tx.query("DELETE FROM auth.users WHERE id = ANY($1)", ids);
        deleted = res.affected();
      });
      n.unverified_users += deleted;
      if (deleted < batch) break;
      if (job) co_await job->heartbeat();
    }
  }
  const int64_t total = n.refresh_tokens + n.email_tokens + n.sessions + n.invitations + n.unverified_users + n.oidc_flows;
  if (total > 0)
    log::info("pruned auth tables", {{"refresh_tokens", n.refresh_tokens},
                                     {"email_tokens", n.email_tokens},
                                     {"sessions", n.sessions},
                                     {"invitations", n.invitations},
                                     {"unverified_users", n.unverified_users},
                                     {"oidc_flows", n.oidc_flows}});
  co_return n;
}

}  // namespace huntaze::auth
