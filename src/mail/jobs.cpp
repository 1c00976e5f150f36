#include "huntaze/mail/jobs.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <string>

#include "mail/message.hpp"

namespace huntaze::mail {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

// A payload that can never be sent: the job goes to the dead letters.
std::string field(const json::value& payload, std::string_view name) {
  const auto* object = payload.if_object();
  const auto* value = object ? object->if_contains(name) : nullptr;
  if (!value || !value->is_string())
    throw jobs::DiscardJob("mail.send: payload field '" + std::string(name) + "' is missing or not a string");
  return std::string(value->get_string());
}

asio::awaitable<void> run_mail_job(Mailer& mailer, jobs::JobContext& job) {
  Email email;
  email.to = field(job.payload(), "to");
  email.subject = field(job.payload(), "subject");
  email.text = field(job.payload(), "text");
  try {
    co_await mailer.send(email);
  } catch (const MailError& e) {
    if (e.permanent()) throw jobs::DiscardJob(e.what());
    throw;  // retried with backoff
  }
}

}  // namespace

void register_mail_jobs(jobs::JobRegistry& registry, Mailer& mailer) {
  using namespace std::chrono_literals;
  jobs::KindOptions options;
  options.queue = kMailQueue;
  // About five hours of attempts (30 s doubling to 1 h), so that an SMTP
  // outage of an afternoon delays email rather than losing it.
  options.policy.max_attempts = 10;
  options.policy.backoff_base = 30s;
  options.policy.backoff_max = 1h;
  // Covers waiting for a free mailer thread plus mail.timeout; a send still
  // running when it passes is aborted and retried.
  options.policy.timeout = 5min;
  registry.add(
      kMailSendKind, [&mailer](jobs::JobContext& job) { return run_mail_job(mailer, job); }, std::move(options));
}

jobs::NewJob mail_job(const Email& email) {
  validate_email(email);
  jobs::NewJob job;
  job.kind = kMailSendKind;
  job.payload = json::serialize(json::object{{"to", email.to}, {"subject", email.subject}, {"text", email.text}});
  return job;
}

}  // namespace huntaze::mail
