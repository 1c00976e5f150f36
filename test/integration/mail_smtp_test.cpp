// Outbound email: the real libcurl SMTP mailer against our ESMTP server on
// loopback (support/smtp_server.hpp) — AUTH, envelope and message, refusals
// and their classification, timeouts, cancellation — and the mail.send job
// kind end to end through the real PostgreSQL job queue and worker.
#include <algorithm>
#include <catch2/catch.hpp>
#include <future>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "huntaze/mail/config.hpp"
#include "huntaze/mail/jobs.hpp"
#include "huntaze/mail/mailer.hpp"
#include "jobs_fixture.hpp"
#include "mail/smtp_mailer.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"
#include "support/smtp_server.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using test::SmtpFault;
using test::SmtpStage;
using test::jobst::JobsFixture;

namespace {

mail::MailConfig config_for(const test::SmtpServer& smtp) {
  mail::MailConfig c;
  c.url = smtp.url();
  c.from = "no-reply@huntaze.test";
  c.from_name = "Huntaze";
  c.starttls = mail::StartTls::off;  // the test server has no TLS
  c.connect_timeout = 5s;
  c.timeout = 20s;
  c.threads = 2;
  return c;
}

mail::Email verification_email(const std::string& to = "ada@example.com") {
  return {to, "Vérifiez votre adresse ✉",
          "Bonjour Ada,\n"
          "\n"
          "Confirm your address: https://app.huntaze.test/verify?token=Zm9v-YmFy_42&next=%2Fhome\n"
          ".\n"
          ".a line that starts with a dot\n"
          "A very long line that keeps going " +
              std::string(200, 'z') + " and ends here.\n"};
}

double counted(metrics::Registry& registry, const char* outcome) {
  return registry.counter("huntaze_mail_sent_total", "", {"outcome"}).with({outcome}).value();
}

struct MailFixture {
  explicit MailFixture(const std::function<void(mail::MailConfig&)>& adjust = {}) {
    auto c = config_for(smtp);
    if (adjust) adjust(c);
    mailer = mail::make_smtp_mailer(io.executor(), c, registry);
  }

  void send(const mail::Email& email) { io.block(mailer->send(email)); }
  // The MailError send() threw; fails the test when it succeeded.
  mail::MailError failure(const mail::Email& email) {
    try {
      send(email);
    } catch (const mail::MailError& e) {
      return e;
    }
    FAIL("the email was sent");
    return mail::MailError(false, "unreachable");
  }
  double count(const char* outcome) { return counted(registry, outcome); }

  test::SmtpServer smtp;
  metrics::Registry registry;
  test::IoThreads io{2};
  std::unique_ptr<mail::Mailer> mailer;  // destroyed first
};

}  // namespace

TEST_CASE("mail smtp: a message goes out over a real SMTP exchange with AUTH", "[mail]") {
  MailFixture f([](mail::MailConfig& c) {
    c.username = "mailer";
    c.password = Secret("s3cret pass");
  });
  f.smtp.require_auth("mailer", "s3cret pass");
  const auto email = verification_email();
  f.send(email);

  REQUIRE(f.smtp.wait_for_messages(1, 10s));
  const auto m = f.smtp.messages().at(0);
  CHECK(m.auth_user == "mailer");
  CHECK(m.mail_from == "no-reply@huntaze.test");
  CHECK(m.recipients == std::vector<std::string>{"ada@example.com"});
  CHECK_THAT(m.mail_params, Contains("SIZE="));  // curl announced the size we gave it
  CHECK(m.header("From") == "\"Huntaze\" <no-reply@huntaze.test>");
  CHECK(m.header("To") == "ada@example.com");
  CHECK(test::decode_header_words(m.header("Subject")) == email.subject);
  CHECK_THAT(m.header("Message-ID"), StartsWith("<") && Contains("@huntaze.test>"));
  CHECK_THAT(m.header("Date"), Contains(" +0000"));
  CHECK(m.header("Content-Type") == "text/plain; charset=utf-8");
  // The body reads back exactly, lone dots included, and its link can be followed.
  CHECK(m.text() == email.text);
  CHECK(test::find_link(m.text()) == "https://app.huntaze.test/verify?token=Zm9v-YmFy_42&next=%2Fhome");
  // The credentials went through AUTH, never in clear in a command we log.
  bool authed = false;
  for (const auto& c : f.smtp.commands()) {
    CHECK_THAT(c, !Contains("s3cret"));
    if (c.starts_with("AUTH ")) authed = true;
  }
  CHECK(authed);
  CHECK(f.count("sent") == 1);
  CHECK(f.registry.histogram("huntaze_mail_send_seconds", "", {"outcome"}).with({"sent"}).snapshot().count == 1);
}

TEST_CASE("mail smtp: a wrong password is a transient failure that names the reply and not the password", "[mail]") {
  MailFixture f([](mail::MailConfig& c) {
    c.username = "mailer";
    c.password = Secret("wrong-password");
  });
  f.smtp.require_auth("mailer", "right-password");
  const auto e = f.failure(verification_email());
  CHECK_FALSE(e.permanent());
  CHECK_THAT(e.what(), Contains("535"));
  CHECK_THAT(e.what(), !Contains("wrong-password"));
  CHECK(f.smtp.message_count() == 0);
  CHECK(f.count("failed_transient") == 1);
}

TEST_CASE("mail smtp: 4xx replies are transient and 5xx refusals of the message permanent", "[mail]") {
  struct Case {
    SmtpStage stage;
    int code;
    bool permanent;
  };
  const std::vector<Case> cases = {
      {SmtpStage::mail, 451, false},        {SmtpStage::mail, 550, true},
      {SmtpStage::rcpt, 451, false},        {SmtpStage::rcpt, 450, false},
      {SmtpStage::rcpt, 550, true},         {SmtpStage::rcpt, 553, true},
      {SmtpStage::data, 451, false},        {SmtpStage::data, 554, true},
      {SmtpStage::end_of_data, 452, false}, {SmtpStage::end_of_data, 552, true},
      {SmtpStage::end_of_data, 554, true},
      // Refusals before the mail transaction are the deployment's problem:
      // retried, so that fixing it delivers the backlog.
      {SmtpStage::greeting, 554, false},    {SmtpStage::greeting, 421, false},
  };
  MailFixture f;
  int transient = 0, permanent = 0;
  for (const auto& c : cases) {
    INFO("stage " << static_cast<int>(c.stage) << " code " << c.code);
    SmtpFault fault;
    fault.stage = c.stage;
    fault.code = c.code;
    f.smtp.inject(fault);
    const auto e = f.failure(verification_email());
    INFO(e.what());
    CHECK(e.permanent() == c.permanent);
    CHECK_THAT(e.what(), Contains(std::to_string(c.code)));
    ++(c.permanent ? permanent : transient);
  }
  CHECK(f.smtp.message_count() == 0);
  CHECK(f.count("failed_permanent") == permanent);
  CHECK(f.count("failed_transient") == transient);
  // The server is fine again: the same message goes through.
  f.send(verification_email());
  CHECK(f.smtp.message_count() == 1);
}

TEST_CASE("mail smtp: a server that never answers ends in a transient timeout", "[mail]") {
  MailFixture f([](mail::MailConfig& c) {
    c.connect_timeout = 500ms;
    c.timeout = 1s;
  });
  SECTION("no greeting") {
    f.smtp.inject({.stage = SmtpStage::greeting, .action = SmtpFault::Action::stall});
  }
  SECTION("no reply after the data") {
    f.smtp.inject({.stage = SmtpStage::end_of_data, .action = SmtpFault::Action::stall});
  }
  const auto e = f.failure(verification_email());
  CHECK_FALSE(e.permanent());
  CHECK_THAT(e.what(), Contains("imeout") || Contains("timed out"));
  CHECK(f.smtp.message_count() == 0);
}

TEST_CASE("mail smtp: a connection closed after the greeting is transient", "[mail]") {
  MailFixture f;
  f.smtp.inject({.stage = SmtpStage::ehlo, .action = SmtpFault::Action::close});
  const auto e = f.failure(verification_email());
  CHECK_FALSE(e.permanent());
  f.smtp.inject({.stage = SmtpStage::rcpt, .action = SmtpFault::Action::close});
  CHECK_FALSE(f.failure(verification_email()).permanent());
  CHECK(f.smtp.message_count() == 0);
  CHECK(f.count("failed_transient") == 2);
}

TEST_CASE("mail smtp: nothing listening is a transient failure", "[mail]") {
  const int port = test::free_port();
  MailFixture f([port](mail::MailConfig& c) { c.url = "smtp://127.0.0.1:" + std::to_string(port); });
  CHECK_FALSE(f.failure(verification_email()).permanent());
}

TEST_CASE("mail smtp: starttls required refuses a server without STARTTLS before any mail is sent", "[mail]") {
  MailFixture f([](mail::MailConfig& c) { c.starttls = mail::StartTls::required; });
  const auto e = f.failure(verification_email());
  CHECK_FALSE(e.permanent());
  CHECK(f.smtp.message_count() == 0);
  for (const auto& c : f.smtp.commands()) CHECK_FALSE(c.starts_with("MAIL"));
  // auto carries on in clear when the server offers no STARTTLS.
  MailFixture opportunistic([](mail::MailConfig& c) { c.starttls = mail::StartTls::auto_; });
  opportunistic.send(verification_email());
  CHECK(opportunistic.smtp.message_count() == 1);
}

TEST_CASE("mail smtp: an invalid email is refused permanently without connecting", "[mail]") {
  MailFixture f;
  CHECK(f.failure({"ada@example.com\r\nRCPT TO:<eve@evil.test>", "Hi", "x"}).permanent());
  CHECK(f.failure({"ada@example.com", "Hi\r\nBcc: eve@evil.test", "x"}).permanent());
  CHECK(f.failure({"Ada <ada@example.com>", "Hi", "x"}).permanent());
  CHECK(f.failure({"ada@example.com", "Hi", std::string((1 << 20) + 1, 'x')}).permanent());
  CHECK(f.smtp.connections() == 0);
  CHECK(f.count("failed_permanent") == 4);
}

TEST_CASE("mail smtp: concurrent sends all arrive with distinct Message-IDs", "[mail]") {
  MailFixture f;
  std::vector<mail::Email> emails;
  for (int i = 0; i < 6; ++i) emails.push_back(verification_email("user" + std::to_string(i) + "@example.com"));
  std::vector<std::future<void>> sends;
  for (const auto& e : emails) sends.push_back(f.io.spawn(f.mailer->send(e)));
  for (auto& s : sends) s.get();
  REQUIRE(f.smtp.wait_for_messages(6, 10s));
  std::set<std::string> ids, recipients;
  for (const auto& m : f.smtp.messages()) {
    ids.insert(m.header("Message-ID"));
    recipients.insert(m.recipients.at(0));
  }
  CHECK(ids.size() == 6);
  CHECK(recipients.size() == 6);
  CHECK(f.count("sent") == 6);
}

TEST_CASE("mail smtp: a stalled send holds no I/O thread and destroying the mailer aborts it", "[mail]") {
  test::SmtpServer smtp;
  smtp.inject({.stage = SmtpStage::greeting, .action = SmtpFault::Action::stall}, -1);
  metrics::Registry registry;
  test::IoThreads io{1};  // one I/O thread: blocking it would stall everything
  auto mailer = mail::make_smtp_mailer(io.executor(), config_for(smtp), registry);
  const auto email = verification_email();
  auto sending = io.spawn(mailer->send(email));
  REQUIRE(test::eventually([&] { return smtp.connections() == 1; }));
  // The I/O thread still runs other coroutines while curl waits for the server.
  auto other = io.spawn([]() -> asio::awaitable<int> { co_return 42; }());
  REQUIRE(other.wait_for(10s) == std::future_status::ready);
  CHECK(other.get() == 42);
  CHECK(sending.wait_for(0s) == std::future_status::timeout);  // 20 s mail timeout: still waiting
  mailer.reset();  // aborts the transfer (within about a second) and joins the mailer's threads
  REQUIRE(sending.wait_for(10s) == std::future_status::ready);
  try {
    sending.get();
    FAIL("the stalled send succeeded");
  } catch (const mail::MailError& e) {
    CHECK_FALSE(e.permanent());
  }
}

TEST_CASE("mail smtp: destroying the mailer also fails the sends still waiting for a thread", "[mail]") {
  test::SmtpServer smtp;
  smtp.inject({.stage = SmtpStage::greeting, .action = SmtpFault::Action::stall}, -1);
  metrics::Registry registry;
  test::IoThreads io{1};
  auto config = config_for(smtp);
  config.threads = 2;
  auto mailer = mail::make_smtp_mailer(io.executor(), config, registry);
  std::vector<mail::Email> emails;
  for (int i = 0; i < 4; ++i) emails.push_back(verification_email("user" + std::to_string(i) + "@example.com"));
  std::vector<std::future<void>> sends;
  for (const auto& e : emails) sends.push_back(io.spawn(mailer->send(e)));
  REQUIRE(test::eventually([&] { return smtp.connections() == 2; }));  // both threads stalled, two sends queued
  mailer.reset();
  int never_started = 0;
  for (auto& s : sends) {
    REQUIRE(s.wait_for(10s) == std::future_status::ready);
    try {
      s.get();
      FAIL("a send succeeded");
    } catch (const mail::MailError& e) {
      CHECK_FALSE(e.permanent());
      if (std::string_view(e.what()).find("before it started") != std::string_view::npos) ++never_started;
    }
  }
  CHECK(never_started == 2);
  CHECK(smtp.connections() == 2);
  CHECK(counted(registry, "failed_transient") == 4);
}

TEST_CASE("mail smtp: sends beyond what may wait for a thread fail at once, transiently", "[mail]") {
  test::SmtpServer smtp;
  smtp.inject({.stage = SmtpStage::greeting, .action = SmtpFault::Action::stall}, -1);
  metrics::Registry registry;
  test::IoThreads io{1};  // one I/O thread: the sends below start in order
  auto config = config_for(smtp);
  config.threads = 1;
  auto mailer = mail::make_smtp_mailer(io.executor(), config, registry);
  const auto email = verification_email();
  std::vector<std::future<void>> sends;
  sends.push_back(io.spawn(mailer->send(email)));
  REQUIRE(test::eventually([&] { return smtp.connections() == 1; }));  // the thread is taken
  for (int i = 0; i < mail::kMaxWaitingSendsPerThread; ++i) sends.push_back(io.spawn(mailer->send(email)));
  try {
    io.block(mailer->send(email));
    FAIL("one send too many was queued");
  } catch (const mail::MailError& e) {
    CHECK_FALSE(e.permanent());
    CHECK_THAT(e.what(), Contains("wait for a mailer thread"));
  }
  CHECK(counted(registry, "failed_transient") == 1);
  for (auto& s : sends) CHECK(s.wait_for(0s) == std::future_status::timeout);  // still waiting, none refused
  mailer.reset();
  for (auto& s : sends) CHECK_THROWS_AS(s.get(), mail::MailError);
  CHECK(smtp.connections() == 1);
}

TEST_CASE("mail smtp: a long or binary server reply reaches the error short and printable", "[mail]") {
  MailFixture f;
  SmtpFault fault;
  fault.stage = SmtpStage::rcpt;
  fault.code = 550;
  fault.text = "5.1.1 No\x01such\x7fuser \xc3\xa9 " + std::string(3000, 'x');
  f.smtp.inject(fault);
  const auto e = f.failure(verification_email());
  CHECK(e.permanent());
  const std::string what = e.what();
  INFO(what);
  CHECK_THAT(what, Contains("550 5.1.1 No?such?user ?? xxx"));
  CHECK(what.size() < 600);
  CHECK(std::all_of(what.begin(), what.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
}

TEST_CASE("mail smtp: the test server's capture is bounded and mail beyond it is deferred", "[mail]") {
  MailFixture f;
  constexpr size_t kLimit = 8 * 1024;  // a few verification emails and their commands
  f.smtp.set_capture_limit(kLimit);
  size_t sent = 0;
  std::optional<mail::MailError> refused;
  while (!refused && sent < 100) {
    try {
      f.send(verification_email());
      ++sent;
    } catch (const mail::MailError& e) {
      refused = e;
    }
  }
  REQUIRE(refused);
  INFO(refused->what());
  CHECK_FALSE(refused->permanent());
  CHECK(sent >= 2);
  CHECK(f.smtp.message_count() == sent);
  size_t kept = 0;
  for (const auto& m : f.smtp.messages()) kept += m.data.size();
  for (const auto& c : f.smtp.commands()) kept += c.size();
  CHECK(kept <= kLimit);
}

TEST_CASE("mail smtp: without a URL the mailer only logs and succeeds", "[mail]") {
  metrics::Registry registry;
  test::IoThreads io{1};
  auto mailer = mail::make_smtp_mailer(io.executor(), mail::MailConfig{}, registry);
  const auto email = verification_email();
  io.block(mailer->send(email));
  CHECK(counted(registry, "logged") == 1);
  // It still refuses what a real server would never get.
  const mail::Email bad{"not-an-address", "Hi", "x"};
  CHECK_THROWS_AS(io.block(mailer->send(bad)), mail::MailError);
  CHECK(counted(registry, "failed_permanent") == 1);
}

// ---------------------------------------------------------------------------
// The mail.send job kind

namespace {

struct MailJobsFixture : JobsFixture {
  explicit MailJobsFixture(std::chrono::milliseconds mail_timeout = 20s) {
    auto c = config_for(smtp);
    c.timeout = mail_timeout;
    mailer = mail::make_smtp_mailer(io.executor(), c, registry);
    mail::register_mail_jobs(kinds, *mailer);
  }
  // The worker stops before the mailer it calls goes away.
  ~MailJobsFixture() { stop_worker(0ms); }

  std::string errors(int64_t id, const std::string& field) {
    return test::admin_scalar(url, "SELECT string_agg(e->>'" + field +
                                       "', '|') FROM jobs.jobs, jsonb_array_elements(errors) e WHERE id = " +
                                       std::to_string(id));
  }
  std::string column(int64_t id, const std::string& expr) {
    return test::admin_scalar(url, "SELECT " + expr + " FROM jobs.jobs WHERE id = " + std::to_string(id));
  }

  test::SmtpServer smtp;
  std::unique_ptr<mail::Mailer> mailer;
};

jobs::RetryPolicy quick_policy(std::chrono::milliseconds timeout = 1min) {
  return {.max_attempts = 3, .backoff_base = 10s, .backoff_max = 1h, .jitter = 0.0, .timeout = timeout};
}

}  // namespace

TEST_CASE("mail jobs: mail.send delivers the email on the mail queue", "[mail]") {
  MailJobsFixture f;
  const auto* kind = f.kinds.find("mail.send");
  REQUIRE(kind);
  CHECK(kind->queue == "mail");
  const auto email = verification_email();
  const int64_t id = f.enqueue(mail::mail_job(email));
  CHECK(f.column(id, "queue") == "mail");
  f.start_worker();
  REQUIRE(f.reaches(id, "completed"));
  REQUIRE(f.smtp.wait_for_messages(1, 10s));
  const auto m = f.smtp.messages().at(0);
  CHECK(m.recipients == std::vector<std::string>{"ada@example.com"});
  CHECK(m.text() == email.text);
  CHECK(test::find_link(m.text()) == "https://app.huntaze.test/verify?token=Zm9v-YmFy_42&next=%2Fhome");
  CHECK(f.smtp.message_count() == 1);
}

TEST_CASE("mail jobs: a permanent refusal discards the job at once", "[mail]") {
  MailJobsFixture f;
  f.kinds.set_policy("mail.send", quick_policy());
  f.smtp.inject({.stage = SmtpStage::rcpt, .code = 550, .text = "5.1.1 No such user"}, -1);
  const int64_t id = f.enqueue(mail::mail_job(verification_email()));
  f.start_worker();
  REQUIRE(f.reaches(id, "discarded"));
  CHECK(f.column(id, "attempt") == "1");
  CHECK(f.errors(id, "reason") == "discard");
  CHECK_THAT(f.errors(id, "error"), Contains("550") && Contains("No such user"));
  CHECK(f.smtp.message_count() == 0);
}

TEST_CASE("mail jobs: a payload that cannot be an email is discarded", "[mail]") {
  MailJobsFixture f;
  f.kinds.set_policy("mail.send", quick_policy());
  const int64_t missing = f.enqueue({.kind = "mail.send", .payload = R"({"to":"ada@example.com","subject":"Hi"})"});
  const int64_t invalid =
      f.enqueue({.kind = "mail.send", .payload = R"({"to":"ada@example.com\r\nBcc: e@evil.test","subject":"Hi",)"
                                                 R"("text":"x"})"});
  f.start_worker();
  REQUIRE(f.reaches(missing, "discarded"));
  REQUIRE(f.reaches(invalid, "discarded"));
  CHECK_THAT(f.errors(missing, "error"), Contains("text"));
  CHECK(f.smtp.connections() == 0);
}

TEST_CASE("mail jobs: a transient failure is retried with backoff and then delivered once", "[mail]") {
  MailJobsFixture f;
  f.kinds.set_policy("mail.send", quick_policy());
  f.smtp.inject({.stage = SmtpStage::rcpt, .code = 451});
  const int64_t id = f.enqueue(mail::mail_job(verification_email()));
  f.start_worker();
  REQUIRE(f.reaches(id, "retryable"));
  CHECK(f.errors(id, "reason") == "error");
  CHECK_THAT(f.errors(id, "error"), Contains("451"));
  CHECK(f.smtp.message_count() == 0);

  f.clock.advance(10s);  // the first backoff
  f.worker->wake();
  REQUIRE(f.reaches(id, "completed"));
  CHECK(f.column(id, "attempt") == "2");
  REQUIRE(f.smtp.wait_for_messages(1, 10s));
  CHECK(f.smtp.message_count() == 1);
}

TEST_CASE("mail jobs: a job timing out aborts its SMTP transfer instead of waiting for the mail timeout", "[mail]") {
  // The mailer would wait 60 s for the silent server; the job's 300 ms
  // timeout cancels the handler, which aborts curl within about a second.
  MailJobsFixture f(60s);
  f.kinds.set_policy("mail.send", quick_policy(300ms));
  f.smtp.inject({.stage = SmtpStage::greeting, .action = SmtpFault::Action::stall}, -1);
  const int64_t id = f.enqueue(mail::mail_job(verification_email()));
  f.start_worker();
  REQUIRE(f.reaches(id, "retryable", 20s));
  CHECK(f.errors(id, "reason") == "timeout");
  CHECK(counted(f.registry, "failed_transient") == 1);
}
