#include "mail/smtp_mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/uuid.hpp"
#include "mail/message.hpp"

namespace huntaze::mail {

namespace asio = boost::asio;

namespace {

// Bounds of huntaze_mail_send_seconds: an SMTP exchange takes from
// milliseconds (a local relay) to the 30 s default timeout.
std::vector<double> send_buckets() { return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}; }

struct Metrics {
  explicit Metrics(metrics::Registry& r)
      : sent(r.counter("huntaze_mail_sent_total", "Outbound emails by outcome", {"outcome"})),
        seconds(r.histogram("huntaze_mail_send_seconds", "Time spent sending one email over SMTP, by outcome",
                            {"outcome"}, send_buckets())) {}
  metrics::Family<metrics::Counter>& sent;
  metrics::Family<metrics::Histogram>& seconds;
};

// Server text as it may appear in an error message: printable ASCII, short.
std::string printable(std::string_view text, size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    if (c == '\r' || c == '\n') continue;
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

// One message on its way: what the pool thread needs and what it found.
struct Transfer {
  explicit Transfer(const Email& e) : email(e) {}
  Email email;
  std::string message;  // the RFC 5322 text, built on the pool thread
  size_t offset = 0;    // bytes of `message` handed to curl so far
  std::string message_id;
  // Set by the caller's cancellation (any thread), read by curl's progress
  // callback on the pool thread.
  std::atomic<bool> abort{false};
  const std::atomic<bool>* abort_all = nullptr;
  std::string last_reply;  // the server's last 4xx/5xx reply line (curl debug callback)
  bool mail_sent = false;  // MAIL FROM went out (curl debug callback)
  std::exception_ptr failure;
};

size_t read_body(char* buffer, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t n = std::min(size * count, t.message.size() - t.offset);
  std::memcpy(buffer, t.message.data() + t.offset, n);
  t.offset += n;
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  return (t.abort.load() || t.abort_all->load()) ? 1 : 0;
}

// Keeps the last 4xx/5xx reply line the server sent (CURLINFO_HEADER_IN;
// curl's QUIT after a failure would otherwise leave only "221 Bye"), and
// notes when our MAIL FROM went out: the mail transaction has begun. Of our
// own commands (CURLINFO_HEADER_OUT, AUTH among them) nothing else is looked
// at or kept.
int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  if (type == CURLINFO_HEADER_OUT && std::string_view(data, size).starts_with("MAIL FROM:")) t.mail_sent = true;
  if (type != CURLINFO_HEADER_IN) return 0;
  std::string_view text(data, size);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (const size_t nl = text.rfind('\n'); nl != std::string_view::npos) text.remove_prefix(nl + 1);
  if (!text.empty() && (text.front() == '4' || text.front() == '5')) t.last_reply = printable(text, 200);
  return 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

long curl_use_ssl(StartTls mode) {
  switch (mode) {
    case StartTls::auto_:
      return static_cast<long>(CURLUSESSL_TRY);
    case StartTls::off:
      return static_cast<long>(CURLUSESSL_NONE);
    case StartTls::required:
      break;
  }
  return static_cast<long>(CURLUSESSL_ALL);
}

// State shared by the mailer and the work it queued on its pool.
struct Shared {
  Shared(asio::any_io_executor ex, MailConfig c, metrics::Registry& r)
      : io(std::move(ex)), config(std::move(c)), metrics(r) {}
  asio::any_io_executor io;
  const MailConfig config;
  Metrics metrics;
  SystemClock clock;
  std::atomic<bool> stopping{false};
  // Sends posted to the pool that no thread has picked up yet (send() adds,
  // perform() takes away).
  mutable std::atomic<int> waiting{0};

  // Runs on a pool thread: builds the message and sends it, leaving any
  // failure (always a MailError) in t.failure.
  void perform(Transfer& t) const {
    waiting.fetch_sub(1);
    const auto start = std::chrono::steady_clock::now();
    std::string_view outcome = "sent";
    try {
      if (t.abort.load() || stopping.load()) throw MailError(false, "mail: the send was cancelled before it started");
      t.message_id = Uuid::v7().str();
      t.message = build_message(t.email, Sender{config.from, config.from_name}, clock.now(), t.message_id);
      exchange(t);
    } catch (const MailError& e) {
      outcome = e.permanent() ? "failed_permanent" : "failed_transient";
      t.failure = std::current_exception();
    } catch (const std::exception& e) {
      outcome = "failed_transient";
      t.failure = std::make_exception_ptr(MailError(false, std::string("mail: ") + e.what()));
    }
    metrics.sent.with({outcome}).inc();
    metrics.seconds.with({outcome}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!t.failure)
      log::info("mail sent", {{"message_id", t.message_id},
                              {"to_domain", domain_of(t.email.to)},
                              {"bytes", static_cast<uint64_t>(t.message.size())}});
  }

  // The SMTP exchange. Throws MailError.
  void exchange(Transfer& t) const {
    std::unique_ptr<CURL, CurlDeleter> easy(curl_easy_init());
    if (!easy) throw MailError(false, "mail: curl_easy_init failed");
    const std::string from = "<" + config.from + ">";
    curl_slist* list = curl_slist_append(nullptr, ("<" + t.email.to + ">").c_str());
    if (!list) throw MailError(false, "mail: out of memory");
    std::unique_ptr<curl_slist, CurlDeleter> rcpt(list);
    char error[CURL_ERROR_SIZE] = {0};
    t.abort_all = &stopping;

    CURL* h = easy.get();
    CURLcode set = CURLE_OK;
    auto opt = [&](CURLoption o, auto value) {
      if (set == CURLE_OK) set = curl_easy_setopt(h, o, value);
    };
    opt(CURLOPT_URL, config.url.c_str());
    opt(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    opt(CURLOPT_MAIL_FROM, from.c_str());
    opt(CURLOPT_MAIL_RCPT, rcpt.get());
    opt(CURLOPT_UPLOAD, 1L);
    opt(CURLOPT_READFUNCTION, &read_body);
    opt(CURLOPT_READDATA, static_cast<void*>(&t));
    // Lets curl announce SIZE= in MAIL FROM when the server supports it.
    opt(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(t.message.size()));
    opt(CURLOPT_USE_SSL, curl_use_ssl(config.starttls));
    if (!config.username.empty()) {
      opt(CURLOPT_USERNAME, config.username.c_str());
      opt(CURLOPT_PASSWORD, config.password.reveal().c_str());
    }
    opt(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout.count()));
    opt(CURLOPT_TIMEOUT_MS, static_cast<long>(config.timeout.count()));
    opt(CURLOPT_SERVER_RESPONSE_TIMEOUT,
        static_cast<long>(std::chrono::ceil<std::chrono::seconds>(config.timeout).count()));
    opt(CURLOPT_NOSIGNAL, 1L);
    opt(CURLOPT_NOPROGRESS, 0L);
    opt(CURLOPT_XFERINFOFUNCTION, &on_progress);
    opt(CURLOPT_XFERINFODATA, static_cast<void*>(&t));
    // VERBOSE only feeds on_debug (which replaces curl's stderr output); it
    // keeps the server's last reply for the error message.
    opt(CURLOPT_VERBOSE, 1L);
    opt(CURLOPT_DEBUGFUNCTION, &on_debug);
    opt(CURLOPT_DEBUGDATA, static_cast<void*>(&t));
    opt(CURLOPT_ERRORBUFFER, error);
    if (set != CURLE_OK) throw MailError(false, std::string("mail: curl setup failed: ") + curl_easy_strerror(set));

    const CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) return;
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_ABORTED_BY_CALLBACK) throw MailError(false, "mail: the send was cancelled");
    // curl (7.88) reports a refusal of MAIL, RCPT or DATA as
    // CURLE_SEND_ERROR and of the data itself as CURLE_WEIRD_SERVER_REPLY
    // (CURLE_RECV_ERROR in other versions), keeping the reply's code as the
    // response code; the same curl codes with a 2xx/3xx response code are
    // broken connections. A 5xx before MAIL FROM (greeting, EHLO, STARTTLS,
    // AUTH) refuses the deployment, not the message: transient.
    const bool server_reply =
        rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_WEIRD_SERVER_REPLY;
    const bool refused = t.mail_sent && server_reply && code >= 400 && code < 600;
    const bool permanent = refused && code >= 500;
    std::string message = "mail: ";
    message += refused ? (permanent ? "the SMTP server refused the message" : "the SMTP server deferred the message")
                       : "sending failed";
    message += " (";
    message += error[0] ? printable(error, 200) : std::string(curl_easy_strerror(rc));
    message += ")";
    if (code >= 400 && !t.last_reply.empty()) message += ": " + t.last_reply;
    throw MailError(permanent, message);
  }
};

// Runs `t` on `pool` and completes on the handler's executor. Cancelling
// the handler's slot asks the transfer to abort.
// (References, so that the caller's co_await expression holds no temporary
// with a destructor: GCC 12 mishandles those.)
template <class Token>
auto async_perform(asio::thread_pool& pool, const std::shared_ptr<const Shared>& shared,
                   const std::shared_ptr<Transfer>& t, Token&& token) {
  return asio::async_initiate<Token, void()>(
      [&pool](auto handler, std::shared_ptr<const Shared> shared, std::shared_ptr<Transfer> t) {
        auto slot = asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected()) slot.assign([t](asio::cancellation_type) { t->abort.store(true); });
        auto work = asio::make_work_guard(asio::get_associated_executor(handler, shared->io));
        asio::post(pool, [shared, t, handler = std::move(handler), work = std::move(work)]() mutable {
          shared->perform(*t);
          auto home = work.get_executor();
          asio::post(home, [handler = std::move(handler), work = std::move(work)]() mutable {
            auto slot = asio::get_associated_cancellation_slot(handler);
            if (slot.is_connected()) slot.clear();
            work.reset();
            std::move(handler)();
          });
        });
      },
      token, shared, t);
}

class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(asio::any_io_executor io, MailConfig config, metrics::Registry& metrics)
      : max_waiting_(kMaxWaitingSendsPerThread * config.threads),
        pool_(static_cast<size_t>(config.threads)),
        shared_(std::make_shared<Shared>(std::move(io), std::move(config), metrics)) {}
  ~SmtpMailer() override {
    shared_->stopping.store(true);
    pool_.join();
  }

  asio::awaitable<void> send(const Email& email) override {
    if (shared_->waiting.fetch_add(1) >= max_waiting_) {
      shared_->waiting.fetch_sub(1);
      shared_->metrics.sent.with({"failed_transient"}).inc();
      throw MailError(false, "mail: " + std::to_string(max_waiting_) + " messages already wait for a mailer thread");
    }
    auto t = std::make_shared<Transfer>(email);
    std::shared_ptr<const Shared> shared = shared_;
    co_await async_perform(pool_, shared, t, asio::use_awaitable);
    if (t->failure) std::rethrow_exception(t->failure);
  }

 private:
  const int max_waiting_;
  asio::thread_pool pool_;
  std::shared_ptr<Shared> shared_;
};

// No server configured: log who would have received what, and succeed.
class LogMailer final : public Mailer {
 public:
  explicit LogMailer(metrics::Registry& metrics) : metrics_(metrics) {}

  asio::awaitable<void> send(const Email& email) override {
    try {
      validate_email(email);
    } catch (const MailError&) {
      metrics_.sent.with({"failed_permanent"}).inc();
      throw;
    }
    metrics_.sent.with({"logged"}).inc();
    log::info("mail not sent: mail.url is empty; logged instead",
              {{"to", email.to}, {"subject", email.subject}, {"body_bytes", static_cast<uint64_t>(email.text.size())}});
    co_return;
  }

 private:
  Metrics metrics_;
};

}  // namespace

std::unique_ptr<Mailer> make_smtp_mailer(asio::any_io_executor io, MailConfig config, metrics::Registry& metrics) {
  if (!config.enabled()) return std::make_unique<LogMailer>(metrics);
  // Once per process, as the HTTP client does (curl counts the calls, so
  // both initialising is harmless); never cleaned up.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
  // parse_mail_config checks these too; a config built by hand must not
  // reach build_message, which would refuse every message permanently.
  if (!plausible_address(config.from))
    throw std::invalid_argument("mail: mail.from must be a plausible address when mail.url is set");
  if (!valid_sender_name(config.from_name))
    throw std::invalid_argument("mail: mail.from_name must be one line of UTF-8, at most 256 bytes");
  return std::make_unique<SmtpMailer>(std::move(io), std::move(config), metrics);
}

}  // namespace huntaze::mail
