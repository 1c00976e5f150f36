// Outbound email: the seam modules use to send one plain-text message.
//
//   co_await mailer.send({.to = "ada@example.com", .subject = "Verify your email", .text = body});
//
// Modules normally do not call send() themselves: they enqueue a `mail.send`
// job inside their own transaction (mail/jobs.hpp: mail_job()), so the email
// goes out once the transaction commits and is retried when the SMTP server
// is away.
//
// The composition root builds the SMTP implementation
// (src/mail/smtp_mailer.hpp); tests may substitute their own.
// Thread-safety: send() may be called from any coroutine, concurrently.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <stdexcept>
#include <string>

namespace huntaze::mail {

struct Email {
  std::string to;       // one address, local@domain (ASCII)
  std::string subject;  // one line of UTF-8
  std::string text;     // plain-text UTF-8 body; line endings are normalised to CRLF
};

// Why a message was not sent. permanent(): retrying the same message cannot
// help (the server refused it with a 5xx reply to MAIL, RCPT, DATA or the
// end of the data, or the message itself is invalid: bad address, CR/LF in a
// header, invalid UTF-8, body over 1 MiB). Otherwise it is transient:
// connection failures, timeouts, 4xx replies, and refusals before the mail
// transaction (greeting, EHLO, STARTTLS, AUTH), which are the deployment's
// problem and heal once an operator fixes it.
class MailError : public std::runtime_error {
 public:
  MailError(bool permanent, const std::string& message) : std::runtime_error(message), permanent_(permanent) {}
  bool permanent() const noexcept { return permanent_; }

 private:
  bool permanent_;
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Completes once the server accepted the message (250 after the data).
  // Throws MailError (see above). Cancellation (a job's timeout, shutdown)
  // aborts a transfer in progress within about a second, as a transient
  // MailError.
  virtual boost::asio::awaitable<void> send(const Email& email) = 0;
};

}  // namespace huntaze::mail
