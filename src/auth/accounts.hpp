// Accounts: sign-up, email verification, login, password change and reset.
//
// Answers never reveal whether an email address has an account: sign-up and
// "forgot password" always answer the same, and a login with an unknown
// address verifies the password against a decoy hash so that it takes as
// long as one with a known address. Password hashing runs on the compute
// pool. Emails are `mail.send` jobs enqueued in the same transaction as the
// token they carry, so a link is mailed if and only if it exists.
//
// Thread-safety: safe from any coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "auth/audit.hpp"
#include "auth/auth_config.hpp"
#include "auth/sessions.hpp"
#include "huntaze/core/compute.hpp"
#include "huntaze/jobs/job_queue.hpp"

namespace huntaze::auth {

struct SignUp {
  std::string email;  // as typed
  std::string password;
  std::string display_name;
  std::string workspace_name;  // empty: "<display name>'s workspace"
};

class Accounts {
 public:
  Accounts(db::Database& db, Compute& compute, jobs::JobQueue& queue, const Clock& clock, Sessions& sessions,
           const AuthConfig& config);

  // Creates the user and a workspace they own, and mails a verification
  // link; for a taken address, mails its owner a notice instead. Throws 400
  // for a malformed address or a password outside the length limits.
  boost::asio::awaitable<void> sign_up(SignUp request, const ClientInfo& client);
  // Throws 400 invalid_token for an unknown, used or expired link.
  boost::asio::awaitable<void> verify_email(std::string_view token, const ClientInfo& client);
  // Throws 401 invalid_credentials, or 403 email_not_verified (only after
  // the password matched).
  boost::asio::awaitable<TokenPair> log_in(std::string_view email, std::string_view password, const ClientInfo& client);
  // Enqueues a kResetMailKind job for the address, whether or not it has an
  // account: known and unknown addresses answer alike.
  boost::asio::awaitable<void> request_password_reset(std::string_view email, const ClientInfo& client);
  // The job: mails a reset link when the address has an account.
  boost::asio::awaitable<void> send_reset_mail(const std::string& email_normalized, const ClientInfo& client);
  // Sets the password, ends every session. Throws 400 invalid_token.
  boost::asio::awaitable<void> reset_password(std::string_view token, std::string_view password,
                                              const ClientInfo& client);
  // Ends every other session. Throws 401 invalid_credentials for a wrong current password.
  boost::asio::awaitable<void> change_password(Uuid user_id, Uuid session_id, std::string_view current,
                                               std::string_view replacement, const ClientInfo& client);

  // The user, their memberships and workspaces, as the /me JSON.
  boost::asio::awaitable<std::string> me_json(Uuid user_id);

 private:
  boost::asio::awaitable<std::string> hash(std::string_view password);
  // On the compute pool; false without a stored hash (after hashing the decoy).
  boost::asio::awaitable<bool> password_matches(std::string stored, std::string_view attempt);
  boost::asio::awaitable<void> mail_link(db::Executor& tx, Uuid user_id, std::string email, std::string purpose,
                                         SysTime now);

  db::Database& db_;
  Compute& compute_;
  jobs::JobQueue& queue_;
  const Clock& clock_;
  Sessions& sessions_;
  const AuthConfig& config_;
};

// 400 unless the password's length is within the limits (in characters).
void check_password_policy(std::string_view password);

// The job kind that looks up an address and mails it a reset link.
inline constexpr const char* kResetMailKind = "auth.password_reset_mail";

// The `mail.send` job for one message (mail::mail_job; an address the mail
// area cannot send to throws mail::MailError).
jobs::NewJob email_job(std::string to, std::string subject, std::string text);

}  // namespace huntaze::auth
