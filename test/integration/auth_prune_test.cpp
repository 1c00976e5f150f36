// auth.prune keeps the auth tables bounded: what it deletes and what it keeps.
#include <catch2/catch.hpp>

#include "auth/maintenance.hpp"
#include "db_fixture.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
using test::dbt::DbFixture;

namespace {

void exec(DbFixture& f, const std::string& sql) { test::admin_exec(f.url, sql); }
std::string scalar(DbFixture& f, const std::string& sql) { return test::admin_scalar(f.url, sql); }

}  // namespace

TEST_CASE("auth prune deletes spent tokens and ended sessions and never-verified sign-ups and stale OIDC flows", "[auth][prune]") {
  DbFixture f;
  const SysTime now = SysTime(std::chrono::sys_days(std::chrono::year(2026) / 11 / 22).time_since_epoch());
  // Times relative to 2026-11-22 00:00 UTC.
  exec(f, R"(
    INSERT INTO auth.users (id, email, email_normalized, created_at, email_verified_at) VALUES
      ('00000000-0000-7000-8000-000000000001', 'kept@x.io', 'kept@x.io', '2026-01-01', '2026-01-01'),
      ('00000000-0000-7000-8000-000000000002', 'stale@x.io', 'stale@x.io', '2026-11-10', NULL),
      ('00000000-0000-7000-8000-000000000003', 'fresh@x.io', 'fresh@x.io', '2026-11-21', NULL);
    INSERT INTO auth.workspaces (id, name, created_at) VALUES
      ('00000000-0000-7000-8000-0000000000a1', 'stale alone', '2026-11-10'),
      ('00000000-0000-7000-8000-0000000000a2', 'shared', '2026-11-10');
    INSERT INTO auth.memberships (workspace_id, user_id, role, created_at) VALUES
      ('00000000-0000-7000-8000-0000000000a1', '00000000-0000-7000-8000-000000000002', 'owner', '2026-11-10'),
      ('00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-000000000002', 'owner', '2026-11-10'),
      ('00000000-0000-7000-8000-0000000000a2', '00000000-0000-7000-8000-000000000001', 'owner', '2026-11-10');
    INSERT INTO auth.sessions (id, user_id, method, created_at, last_used_at, expires_at, revoked_at) VALUES
      ('00000000-0000-7000-8000-0000000000b1', '00000000-0000-7000-8000-000000000001', 'password', '2026-06-01', '2026-06-01', '2026-09-01', NULL),
      ('00000000-0000-7000-8000-0000000000b2', '00000000-0000-7000-8000-000000000001', 'password', '2026-09-01', '2026-09-01', '2026-12-01', '2026-10-01'),
      ('00000000-0000-7000-8000-0000000000b3', '00000000-0000-7000-8000-000000000001', 'password', '2026-11-01', '2026-11-01', '2027-02-01', '2026-11-20'),
      ('00000000-0000-7000-8000-0000000000b4', '00000000-0000-7000-8000-000000000001', 'password', '2026-11-01', '2026-11-01', '2027-02-01', NULL);
    INSERT INTO auth.refresh_tokens (token_hash, session_id, issued_at, expires_at, rotated_at) VALUES
      ('\x01', '00000000-0000-7000-8000-0000000000b4', '2026-10-01', '2026-11-20', '2026-10-02'),
      ('\x02', '00000000-0000-7000-8000-0000000000b4', '2026-11-21', '2026-11-21 12:00', '2026-11-21'),
      ('\x03', '00000000-0000-7000-8000-0000000000b4', '2026-11-21', '2026-12-21', NULL);
    INSERT INTO auth.email_tokens (token_hash, user_id, purpose, email_normalized, created_at, expires_at) VALUES
      ('\x11', '00000000-0000-7000-8000-000000000001', 'reset_password', 'kept@x.io', '2026-11-01', '2026-11-01 01:00'),
      ('\x12', '00000000-0000-7000-8000-000000000001', 'reset_password', 'kept@x.io', '2026-11-21 23:00', '2026-11-22 00:00');
    INSERT INTO auth.invitations (id, workspace_id, email_normalized, role, token_hash, created_at, expires_at, accepted_at) VALUES
      ('00000000-0000-7000-8000-0000000000c1', '00000000-0000-7000-8000-0000000000a2', 'a@x.io', 'viewer', '\x21', '2026-09-01', '2026-09-08', NULL),
      ('00000000-0000-7000-8000-0000000000c2', '00000000-0000-7000-8000-0000000000a2', 'b@x.io', 'viewer', '\x22', '2026-09-01', '2026-09-08', '2026-09-02'),
      ('00000000-0000-7000-8000-0000000000c3', '00000000-0000-7000-8000-0000000000a2', 'c@x.io', 'viewer', '\x23', '2026-11-01', '2026-11-08', NULL);
    INSERT INTO auth.oidc_flows (state_hash, provider, nonce, code_verifier, return_to, created_at, expires_at) VALUES
      ('\x31', 'google', 'n', 'v', '/', '2026-11-21 23:40', '2026-11-21 23:50'),
      ('\x32', 'google', 'n', 'v', '/', '2026-11-21 23:55', '2026-11-22 00:05');
  )");
  auth::AuthConfig config;  // verify_ttl 48 h: sign-ups older than three days go
  auto counts = f.block(auth::prune_auth(*f.db, now, config, nullptr, 2));  // batches of 2: the loops run
  CHECK(counts.sessions == 2);        // expired in September, revoked in October
  CHECK(counts.refresh_tokens == 1);  // the 20 November one; 21 November is within the day of grace
  CHECK(counts.email_tokens == 1);
  CHECK(counts.invitations == 1);     // unaccepted and expired in September
  CHECK(counts.unverified_users == 1);
  CHECK(counts.oidc_flows == 1);  // the one past its expiry; the other may still come back
  CHECK(scalar(f, "SELECT count(*) FROM auth.oidc_flows WHERE state_hash = '\\x32'") == "1");
  CHECK(scalar(f, "SELECT string_agg(right(id::text, 2), ',' ORDER BY id) FROM auth.sessions") == "b3,b4");
  CHECK(scalar(f, "SELECT string_agg(email, ',' ORDER BY email) FROM auth.users") == "fresh@x.io,kept@x.io");
  // The workspace only the stale sign-up belonged to went; the shared one stays.
  CHECK(scalar(f, "SELECT string_agg(name, ',') FROM auth.workspaces") == "shared");
  CHECK(scalar(f, "SELECT count(*) FROM auth.invitations") == "2");

  // With verification not required, unverified accounts are real accounts.
  exec(f, "UPDATE auth.users SET created_at = '2026-01-01' WHERE email = 'fresh@x.io'");
  config.require_verified_email = false;
  counts = f.block(auth::prune_auth(*f.db, now, config));
  CHECK(counts.unverified_users == 0);
  CHECK(scalar(f, "SELECT count(*) FROM auth.users") == "2");
}
