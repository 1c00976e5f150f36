#include "auth/accounts.hpp"

#include <boost/json.hpp>

#include "auth/json_body.hpp"
#include "auth/passwords.hpp"
#include "auth/tokens.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/mail/jobs.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::auth {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

ApiError invalid_credentials() { return ApiError(401, "invalid_credentials", "the email or password is wrong"); }
ApiError invalid_link() { return ApiError(400, "invalid_token", "the link is invalid, expired or already used"); }

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

void check_password_policy(std::string_view password) {
  const size_t n = utf8_length(password);
  if (n < kMinPasswordLength || password.size() > kMaxPasswordLength * 4 || n > kMaxPasswordLength)
    throw ApiError::bad_request("the password does not meet the policy",
                                {{"password", "must be " + std::to_string(kMinPasswordLength) + " to " +
                                                  std::to_string(kMaxPasswordLength) + " characters"}});
}

jobs::NewJob email_job(std::string to, std::string subject, std::string text) {
  return mail::mail_job(mail::Email{.to = std::move(to), .subject = std::move(subject), .text = std::move(text)});
}

Accounts::Accounts(db::Database& db, Compute& compute, jobs::JobQueue& queue, const Clock& clock, Sessions& sessions,
                   const AuthConfig& config)
    : db_(db), compute_(compute), queue_(queue), clock_(clock), sessions_(sessions), config_(config) {}

asio::awaitable<std::string> Accounts::hash(std::string_view password) {
  std::string copy(password);
  const PasswordParams params = config_.password;
  // Named before the co_await (GCC 12 miscompiles capturing lambda temporaries there).
  auto work = [copy = std::move(copy), params] { return hash_password(copy, params); };
  co_return co_await compute_.run(std::move(work));
}

asio::awaitable<bool> Accounts::password_matches(std::string stored, std::string_view attempt) {
  // Over-long input is cut first: it cannot match a stored hash anyway.
  std::string copy(attempt.substr(0, kMaxPasswordLength * 4));
  const PasswordParams params = config_.password;
  // No stored hash (unknown address, identity-provider account): verify
  // against the decoy all the same, so every failed attempt costs one hash.
  // The decoy is made on first use, so that too happens on the pool.
  auto work = [stored = std::move(stored), copy = std::move(copy), params] {
    const bool matched = verify_password(stored.empty() ? decoy_hash(params) : stored, copy);
    return matched && !stored.empty();
  };
  co_return co_await compute_.run(std::move(work));
}

asio::awaitable<void> Accounts::mail_link(db::Executor& tx, Uuid user_id, std::string email, std::string purpose,
                                          SysTime now) {
  const std::string token = new_token(kEmailPrefix);
  const bool verify = purpose == "verify_email";
  const SysTime expires_at = now + (verify ? config_.verify_ttl : config_.reset_ttl);
  co_await tx.query(
      "INSERT INTO auth.email_tokens (token_hash, user_id, purpose, email_normalized, created_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      token_hash(token), user_id, purpose, email, db::Timestamp(now), db::Timestamp(expires_at));
  const std::string link = config_.public_url + (verify ? "/verify-email?token=" : "/reset-password?token=") + token;
  std::string subject = verify ? "Confirm your email address for Huntaze" : "Reset your Huntaze password";
  std::string text =
      verify ? "Welcome to Huntaze.\n\nConfirm your email address by opening this link:\n\n" + link +
                   "\n\nIf you did not sign up, ignore this message.\n"
             : "Someone asked to reset the password of your Huntaze account.\n\nTo choose a new password, open:\n\n" +
                   link + "\n\nThe link works once and expires in an hour. If it was not you, ignore this message.\n";
  auto job = email_job(email, std::move(subject), std::move(text));
  co_await queue_.enqueue(tx, std::move(job));
}

asio::awaitable<void> Accounts::sign_up(SignUp request, const ClientInfo& client) {
  auto email = normalize_email(request.email);
  if (!email) throw ApiError::bad_request("the email address is not valid", {{"email", "is not an email address"}});
  check_password_policy(request.password);
  if (request.display_name.empty()) request.display_name = email->substr(0, email->find('@'));
  std::string workspace_name =
      request.workspace_name.empty() ? request.display_name + "'s workspace" : request.workspace_name;

  // Hashed whether or not the address is taken: both answers take as long.
  const std::string password_hash = co_await hash(request.password);
  const SysTime now = clock_.now();
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    const Uuid user_id = Uuid::v7();
    auto inserted = co_await tx.query(
        "INSERT INTO auth.users (id, email, email_normalized, display_name, password_hash, password_changed_at, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email_normalized) DO NOTHING RETURNING id",
        user_id, request.email, *email, request.display_name, password_hash, db::Timestamp(now));
    if (inserted.empty()) {
      auto existing = co_await tx.query("SELECT id FROM auth.users WHERE email_normalized = $1", *email);
      if (existing.empty()) co_return;
      std::string text =
          "Someone tried to create a Huntaze account with this email address, which already has one.\n\n"
          "If it was you, sign in, or reset your password at " +
          config_.public_url + "/forgot-password\n\nIf it was not you, ignore this message.\n";
      auto job = email_job(*email, "Your Huntaze account", std::move(text));
      co_await queue_.enqueue(tx, std::move(job));
      AuditEvent event{.event = "signup_existing_email", .user_id = existing.front().get<Uuid>(0)};
      co_await record_audit(tx, now, client, event);
      co_return;
    }
    const Uuid workspace_id = Uuid::v7();
    co_await tx.query("INSERT INTO auth.workspaces (id, name, created_at) VALUES ($1, $2, $3)", workspace_id,
                      workspace_name, db::Timestamp(now));
    co_await tx.query(
        "INSERT INTO auth.memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
        workspace_id, user_id, db::Timestamp(now));
    co_await mail_link(tx, user_id, *email, "verify_email", now);
    AuditEvent event{.event = "signed_up", .workspace_id = workspace_id, .user_id = user_id};
    co_await record_audit(tx, now, client, event);
  });
}

asio::awaitable<void> Accounts::verify_email(std::string_view token, const ClientInfo& client) {
  if (!well_formed_token(token, kEmailPrefix)) throw invalid_link();
  const SysTime now = clock_.now();
  bool verified = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto used = co_await tx.query(
        "UPDATE auth.email_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'verify_email' "
        "AND used_at IS NULL AND expires_at > $2 RETURNING user_id, email_normalized",
        token_hash(token), db::Timestamp(now));
    if (used.empty()) co_return;
    const Uuid user_id = used.front().get<Uuid>(0);
    // Only while the account still has the address the link was sent to.
    auto updated = co_await tx.query(
        "UPDATE auth.users SET email_verified_at = COALESCE(email_verified_at, $3) "
        "WHERE id = $1 AND email_normalized = $2",
        user_id, used.front().get<std::string>(1), db::Timestamp(now));
    if (updated.affected() != 1) co_return;
    AuditEvent event{.event = "email_verified", .user_id = user_id};
    co_await record_audit(tx, now, client, event);
    verified = true;
  });
  if (!verified) throw invalid_link();
}

asio::awaitable<TokenPair> Accounts::log_in(std::string_view email_text, std::string_view password,
                                        const ClientInfo& client) {
  auto email = normalize_email(email_text);
  std::optional<Uuid> user_id;
  std::string stored;
  bool email_verified = false;
  if (email) {
    auto rows = co_await db_.query(
        "SELECT id, password_hash, email_verified_at IS NOT NULL FROM auth.users WHERE email_normalized = $1",
        *email);
    if (!rows.empty()) {
      user_id = rows.front().get<Uuid>(0);
      stored = rows.front().get<std::optional<std::string>>(1).value_or("");
      email_verified = rows.front().get<bool>(2);
    }
  }
  const bool ok = co_await password_matches(stored, password);
  const SysTime now = clock_.now();
  if (!ok) {
    AuditEvent event{.event = "login_failed", .user_id = user_id};
    if (!user_id) event.details["reason"] = "unknown_email";
    co_await record_audit(db_, now, client, event);
    throw invalid_credentials();
  }
  if (config_.require_verified_email && !email_verified)
    throw ApiError(403, "email_not_verified", "confirm your email address first: the link is in your inbox");

  if (needs_rehash(stored, config_.password)) {
    const std::string fresh = co_await hash(password);
    co_await db_.query("UPDATE auth.users SET password_hash = $2 WHERE id = $1 AND password_hash = $3", *user_id,
                       fresh, stored);
  }
  TokenPair tokens;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    tokens = co_await sessions_.start(tx, *user_id, "password", client);
    AuditEvent event{.event = "login_succeeded", .user_id = user_id};
    event.details["session_id"] = tokens.session_id.str();
    co_await record_audit(tx, now, client, event);
  });
  co_await sessions_.deny(tokens.capped_sessions);
  co_return tokens;
}

asio::awaitable<void> Accounts::request_password_reset(std::string_view email_text, const ClientInfo& client) {
  auto email = normalize_email(email_text);
  if (!email) co_return;
  // Known or not, the address becomes the same job, so both answers cost
  // the same; the job looks it up and mails the link.
  jobs::NewJob job;
  job.kind = kResetMailKind;
  job.payload = json::serialize(
      json::object{{"email", *email}, {"ip", client.ip}, {"user_agent", client.user_agent}, {"request_id", client.request_id}});
  co_await queue_.enqueue(db_, std::move(job));
}

asio::awaitable<void> Accounts::send_reset_mail(const std::string& email, const ClientInfo& client) {
  const SysTime now = clock_.now();
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto rows = co_await tx.query("SELECT id FROM auth.users WHERE email_normalized = $1", email);
    if (rows.empty()) co_return;
    const Uuid user_id = rows.front().get<Uuid>(0);
    co_await mail_link(tx, user_id, email, "reset_password", now);
    AuditEvent event{.event = "password_reset_requested", .user_id = user_id};
    co_await record_audit(tx, now, client, event);
  });
}

asio::awaitable<void> Accounts::reset_password(std::string_view token, std::string_view password,
                                               const ClientInfo& client) {
  check_password_policy(password);
  if (!well_formed_token(token, kEmailPrefix)) throw invalid_link();
  const db::Bytes hash_of_token = token_hash(token);
  // Checked before hashing, so junk tokens cost no CPU.
  auto live = co_await db_.query(
      "SELECT 1 FROM auth.email_tokens WHERE token_hash = $1 AND purpose = 'reset_password' AND used_at IS NULL "
      "AND expires_at > $2",
      hash_of_token, db::Timestamp(clock_.now()));
  if (live.empty()) throw invalid_link();
  const std::string password_hash = co_await hash(password);
  const SysTime now = clock_.now();
  std::vector<Uuid> ended;
  bool done = false;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    auto used = co_await tx.query(
        "UPDATE auth.email_tokens SET used_at = $2 WHERE token_hash = $1 AND purpose = 'reset_password' "
        "AND used_at IS NULL AND expires_at > $2 RETURNING user_id, email_normalized",
        hash_of_token, db::Timestamp(now));
    if (used.empty()) co_return;
    const Uuid user_id = used.front().get<Uuid>(0);
    // Opening the link proves the address, so it counts as verified.
    auto updated = co_await tx.query(
        "UPDATE auth.users SET password_hash = $3, password_changed_at = $4, "
        "email_verified_at = COALESCE(email_verified_at, $4) WHERE id = $1 AND email_normalized = $2",
        user_id, used.front().get<std::string>(1), password_hash, db::Timestamp(now));
    if (updated.affected() != 1) co_return;
    co_await tx.query(
        "UPDATE auth.email_tokens SET used_at = $2 WHERE user_id = $1 AND purpose = 'reset_password' "
        "AND used_at IS NULL",
        user_id, db::Timestamp(now));
    ended = co_await sessions_.revoke_all(tx, user_id, "password_reset");
    AuditEvent event{.event = "password_reset", .user_id = user_id};
    event.details["sessions_ended"] = static_cast<int64_t>(ended.size());
    co_await record_audit(tx, now, client, event);
    done = true;
  });
  if (!done) throw invalid_link();
  co_await sessions_.deny(std::move(ended));
}

asio::awaitable<void> Accounts::change_password(Uuid user_id, Uuid session_id, std::string_view current,
                                                std::string_view replacement, const ClientInfo& client) {
  check_password_policy(replacement);
  auto rows = co_await db_.query("SELECT password_hash FROM auth.users WHERE id = $1", user_id);
  std::string stored = rows.empty() ? "" : rows.front().get<std::optional<std::string>>(0).value_or("");
  const bool ok = co_await password_matches(std::move(stored), current);
  const SysTime now = clock_.now();
  if (!ok) {
    AuditEvent event{.event = "password_change_failed", .user_id = user_id};
    co_await record_audit(db_, now, client, event);
    throw invalid_credentials();
  }
  const std::string password_hash = co_await hash(replacement);
  std::vector<Uuid> ended;
  co_await db_.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    co_await tx.query("UPDATE auth.users SET password_hash = $2, password_changed_at = $3 WHERE id = $1", user_id,
                      password_hash, db::Timestamp(now));
    ended = co_await sessions_.revoke_all(tx, user_id, "password_changed", session_id);
    AuditEvent event{.event = "password_changed", .user_id = user_id};
    event.details["sessions_ended"] = static_cast<int64_t>(ended.size());
    co_await record_audit(tx, now, client, event);
  });
  co_await sessions_.deny(std::move(ended));
}

asio::awaitable<std::string> Accounts::me_json(Uuid user_id) {
  // One round trip: the memberships come aggregated with the user's row
  // (at most 100 of them, see kMaxMembershipsPerUser).
  auto rows = co_await db_.query(
      "SELECT u.email, u.display_name, u.email_verified_at IS NOT NULL, u.created_at, u.password_hash IS NOT NULL, "
      "COALESCE((SELECT json_agg(json_build_object('id', w.id, 'name', w.name, 'role', m.role) "
      "ORDER BY m.created_at) FROM auth.memberships m JOIN auth.workspaces w ON w.id = m.workspace_id "
      "WHERE m.user_id = u.id), '[]')::text FROM auth.users u WHERE u.id = $1",
      user_id);
  if (rows.empty()) throw ApiError(401, "invalid_token", "the account no longer exists");
  const auto u = rows.front();
  json::object out{{"id", user_id.str()},
                   {"email", u.get<std::string>(0)},
                   {"display_name", u.get<std::string>(1)},
                   {"email_verified", u.get<bool>(2)},
                   {"created_at", format_iso8601(u.get<db::Timestamp>(3))},
                   {"has_password", u.get<bool>(4)},
                   {"workspaces", json::parse(u.get<std::string>(5))}};
  co_return json::serialize(out);
}

}  // namespace huntaze::auth
