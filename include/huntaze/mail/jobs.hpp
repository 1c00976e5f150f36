// Email as jobs: the `mail.send` job kind, on the "mail" queue.
//
//   co_await db.transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
//     co_await tx.query("INSERT INTO auth.email_tokens ...", ...);
//     co_await queue.enqueue(tx, mail::mail_job({.to = user.email, .subject = "...", .text = body}));
//   });  // the token and its email commit together
//
// The job's payload is {"to":..., "subject":..., "text":...}. A permanent
// MailError discards the job at once (DiscardJob: it goes to the dead
// letters); anything else fails the attempt and is retried with backoff
// (10 attempts, 30 s doubling to 1 h, 5 min per attempt; operators override
// it under jobs.kinds."mail.send").
//
// The "mail" queue needs no configuration: it runs jobs.queues.default's
// concurrency unless jobs.queues.mail says otherwise; the mailer's own
// `mail.threads` bounds how many messages are actually on the wire.
#pragma once

#include "huntaze/jobs/job.hpp"
#include "huntaze/jobs/registry.hpp"
#include "huntaze/mail/mailer.hpp"

namespace huntaze::mail {

inline constexpr const char* kMailSendKind = "mail.send";
inline constexpr const char* kMailQueue = "mail";

// Registers `mail.send`. The mailer must outlive the registry's workers.
void register_mail_jobs(jobs::JobRegistry& registry, Mailer& mailer);

// The job that sends `email`. Validates it first, so that a bad address or
// a header injection fails the caller (MailError, permanent) instead of
// dying later in the queue.
jobs::NewJob mail_job(const Email& email);

}  // namespace huntaze::mail
