// The `mail:` section of the configuration: the SMTP server outbound email
// goes through.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::mail {

// How STARTTLS is used on smtp:// URLs (maps to CURLOPT_USE_SSL). smtps://
// is TLS from the first byte whatever this says.
enum class StartTls {
  auto_,     // upgrade when the server offers STARTTLS, else continue in clear (CURLUSESSL_TRY)
  required,  // fail (transiently) unless the connection is upgraded (CURLUSESSL_ALL)
  off,       // never upgrade (CURLUSESSL_NONE)
};

struct MailConfig {
  // smtp://host[:port][/ehlo-name] or smtps://host[:port][/ehlo-name].
  // Empty: no mail server. Emails are then only logged, recipient and
  // subject but never the body, and count as sent: a development
  // convenience so that scripts/run works offline. Production sets a URL.
  std::string url;
  std::string from;       // envelope sender and From: address; required when url is set
  std::string from_name;  // display name in From: (UTF-8), may be empty
  std::string username;   // SMTP AUTH user; empty: no AUTH
  Secret password;        // SMTP AUTH password
  StartTls starttls = StartTls::required;
  std::chrono::milliseconds connect_timeout{10'000};
  // The whole exchange of one message, connection included.
  std::chrono::milliseconds timeout{30'000};
  // Threads of the mailer's own pool: messages in flight at once (each
  // blocking libcurl transfer holds one thread, never an I/O thread).
  int threads = 1;

  bool enabled() const noexcept { return !url.empty(); }
  bool operator==(const MailConfig&) const = default;
};

// Reads and finish()es the section. Throws config::ConfigError (naming the
// key) for an unknown key, a URL that is not smtp:// or smtps:// with a host
// (and without user info, query or fragment: credentials belong in
// username/password), a missing or implausible `from` when url is set, a
// from_name that is not one line of UTF-8, a password without username, or
// timeouts/threads out of range.
MailConfig parse_mail_config(config::Node node);

std::string_view to_string(StartTls mode) noexcept;

}  // namespace huntaze::mail
