// The auth module's jobs: the daily `auth.prune` that keeps its tables
// bounded, and `auth.password_reset_mail` (see Accounts).
//
// auth.prune deletes, in batches:
// - refresh tokens and email links a day past their expiry (a rotated token
//   is kept until then so that its reuse is still recognised);
// - sessions 30 days after they ended (expired or revoked), with their tokens;
// - invitations 30 days past their expiry that nobody accepted;
// - when auth.require_verified_email is on, accounts whose address was not
//   verified within verify_ttl plus a day, and the workspaces only they
//   belonged to (such accounts could never sign in; this frees the address);
// - OpenID Connect sign-ins that never came back from the provider, once
//   past their expiry.
//
// Thread-safety: free functions.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>

#include "auth/auth_config.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/job_context.hpp"

namespace huntaze::auth {

inline constexpr const char* kPruneKind = "auth.prune";

struct PruneCounts {
  int64_t refresh_tokens = 0;
  int64_t email_tokens = 0;
  int64_t sessions = 0;
  int64_t invitations = 0;
  int64_t unverified_users = 0;
  int64_t oidc_flows = 0;
};

boost::asio::awaitable<PruneCounts> prune_auth(db::Database& db, SysTime now, const AuthConfig& config,
                                               jobs::JobContext* job = nullptr, int64_t batch = 1000);

}  // namespace huntaze::auth
