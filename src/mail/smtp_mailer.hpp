// The Mailer over SMTP, with libcurl's easy interface.
//
// curl_easy_perform blocks for the whole exchange, so every message runs on
// the mailer's own thread pool (mail.threads threads, never an I/O thread);
// the caller's coroutine waits without holding a thread and resumes on its
// own executor. One connection per message: EHLO, STARTTLS (mail.starttls),
// AUTH (when mail.username is set), MAIL FROM, RCPT TO, DATA, QUIT.
//
// Errors (MailError, mailer.hpp): a 5xx reply to MAIL, RCPT, DATA or the end
// of the data is permanent, as is a message that fails validation (which
// opens no connection); everything else is transient: connection failures,
// timeouts (mail.connect_timeout, mail.timeout), 4xx replies, and refusals
// before the mail transaction (greeting, EHLO, STARTTLS, AUTH such as a 535
// for a wrong password), which are configuration or server problems that
// heal without changing the message. Cancelling the caller (a job's timeout,
// shutdown) aborts the transfer within about a second (curl's progress
// callback), as a transient error.
//
// Sends beyond mail.threads wait for a thread, at most
// kMaxWaitingSendsPerThread per thread; one more fails at once (transiently)
// instead of queueing without limit behind a slow or silent server. The
// mail.send jobs stay below it unless jobs.queues.mail is set far above
// mail.threads, and then the extra jobs are retried later.
//
// With an empty mail.url the mailer only logs each email's recipient and
// subject (never the body) and reports success: a development convenience.
//
// Metrics: huntaze_mail_sent_total{outcome} and huntaze_mail_send_seconds{outcome}
// (time on the wire), outcome = sent | failed_permanent | failed_transient
// (| logged without a URL). The password and the body never reach a log,
// a metric or an error message.
//
// Only the composition root and tests name this.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "huntaze/core/metrics.hpp"
#include "huntaze/mail/config.hpp"
#include "huntaze/mail/mailer.hpp"

namespace huntaze::mail {

inline constexpr int kMaxWaitingSendsPerThread = 32;

// `io` is where a caller without an executor of its own would resume (every
// coroutine has one, so in practice the process's io_context). The registry
// must outlive the mailer. Destroying the mailer aborts the transfers in
// flight (their send() fails, transiently) and joins its threads. With a URL,
// throws std::invalid_argument for a `from` or `from_name` that
// parse_mail_config would have refused.
std::unique_ptr<Mailer> make_smtp_mailer(boost::asio::any_io_executor io, MailConfig config,
                                         metrics::Registry& metrics);

}  // namespace huntaze::mail
