#include "http/curl_client.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "http/curl_transfer.hpp"
#include "http/labels.hpp"

namespace huntaze::http {

namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using detail::Transfer;
using Kind = HttpClientError::Kind;
using Strand = asio::strand<asio::any_io_executor>;

// A socket curl asked us to watch. Waits are one-shot while curl's interest
// is level-style, so a satisfied wait is re-armed while the interest lasts; a
// wait that completes after the interest was dropped is ignored.
struct Watch {
  Watch(const Strand& strand, curl_socket_t fd) : fd(fd), descriptor(strand, fd) {}
  curl_socket_t fd;
  asio::posix::stream_descriptor descriptor;  // never closes fd: released before curl closes it
  int wanted = 0;                             // CURL_POLL_IN / CURL_POLL_OUT bits
  bool waiting[2] = {false, false};           // [0] read, [1] write
  bool live = true;
};

std::string_view status_class(int status) {
  static constexpr std::string_view classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  if (status >= 100 && status < 600) return classes[status / 100 - 1];
  return "other";
}

// The multi handle and everything that drives it. Shared by the client, the
// pending waits and posted work, so it outlives whichever finishes last.
class Driver : public std::enable_shared_from_this<Driver> {
 public:
  Driver(asio::any_io_executor executor, HttpClientConfig config, metrics::Registry& registry)
      : strand_(asio::make_strand(executor)),
        timer_(strand_),
        config_(std::move(config)),
        allow_(config_.allow_private),
        requests_(registry.counter("huntaze_http_client_requests_total",
                                   "Outbound HTTP requests by method and outcome (status class or error kind)",
                                   {"method", "outcome"})),
        seconds_(registry.histogram("huntaze_http_client_seconds",
                                    "Outbound HTTP request duration, from send() to the end of the body", {"outcome"})),
        in_flight_(registry.gauge("huntaze_http_client_in_flight", "Outbound HTTP requests in progress").with({})),
        connections_opened_(registry
                                .counter("huntaze_http_client_connections_opened_total",
                                         "Connection attempts (sockets opened) by the outbound HTTP client; "
                                         "requests on pooled connections open none")
                                .with({})) {
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Driver::socket_callback);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Driver::timer_callback);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(config_.max_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(config_.max_host_connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(config_.max_connections));  // the idle pool
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    easy_.config = &config_;
    easy_.allow = &allow_;
    easy_.connections_opened = &connections_opened_;
    easy_.close_socket = &Driver::close_socket_callback;
    easy_.close_socket_data = this;
  }

  // Nothing else refers to the driver any more; when shutdown() never got to
  // run (the io_context stopped first), the waiting senders are dropped with it.
  ~Driver() { shutdown(false); }

  const Strand& strand() const { return strand_; }
  const detail::EasySettings& easy_settings() const { return easy_; }

  // Strand: starts a transfer whose setup() succeeded.
  void start(const std::shared_ptr<Transfer>& t) {
    if (t->done) return;
    if (!multi_) {
      t->fail(Kind::cancelled, "the HTTP client was shut down");
      complete(t);
      return;
    }
    if (CURLMcode rc = curl_multi_add_handle(multi_, t->easy); rc != CURLM_OK) {
      t->fail(Kind::other, curl_multi_strerror(rc));
      complete(t);
      return;
    }
    // Counted only once in the multi handle: complete() takes it back for
    // running transfers only.
    in_flight_.inc();
    t->running = true;
    active_.emplace(t->easy, t);
    arm_deadline(t);
  }

  // Any thread: the sender's coroutine was cancelled.
  void cancel(std::weak_ptr<Transfer> weak) {
    asio::post(strand_, [self = shared_from_this(), weak = std::move(weak)] {
      auto t = weak.lock();
      if (!t || t->done) return;
      t->fail(Kind::cancelled, "the request was cancelled");
      self->complete(t);
    });
  }

  // Strand: fails whatever is running and closes every connection.
  void shutdown(bool notify = true) {
    if (!multi_) return;
    std::vector<std::shared_ptr<Transfer>> running;
    for (auto& [easy, t] : active_) running.push_back(t);
    for (auto& t : running) {
      t->fail(Kind::cancelled, "the HTTP client was shut down");
      if (!notify) t->handler.reset();
      complete(t, std::nullopt, false);
    }
    curl_multi_cleanup(multi_);  // closes pooled connections through close_socket_callback
    multi_ = nullptr;
    timer_.cancel();
    for (auto& [fd, w] : watches_) forget(*w);
    watches_.clear();
  }

 private:
  // Strand: curl's own timeout fires first for a transfer that got a
  // connection (its message is more precise); this one catches the rest.
  void arm_deadline(const std::shared_ptr<Transfer>& t) {
    const auto limit = t->request.total_timeout;
    if (limit.count() <= 0) return;
    t->deadline.emplace(strand_, limit + std::chrono::milliseconds(50));
    t->deadline->async_wait(asio::bind_executor(
        strand_, [self = shared_from_this(), weak = std::weak_ptr<Transfer>(t), limit](error_code ec) {
          auto t = weak.lock();
          if (ec || !t || t->done) return;
          t->fail(Kind::timeout, "request timed out after " + std::to_string(limit.count()) +
                                     " ms (still waiting for a connection or for curl)");
          self->complete(t);
        }));
  }

  // Strand: takes the transfer out of curl (with curl's verdict when it
  // finished by itself), records it and resumes its sender.
  // Shutdown does not `record`: it may run after the owner let the registry go.
  void complete(const std::shared_ptr<Transfer>& t, std::optional<CURLcode> result = std::nullopt, bool record = true) {
    t->done = true;
    t->deadline.reset();  // cancels its wait
    if (t->running) {
      active_.erase(t->easy);
      // Mid-transfer this closes its connection: a half-read response cannot
      // go back to the pool.
      curl_multi_remove_handle(multi_, t->easy);
      t->running = false;
      if (record) in_flight_.dec();
    }
    if (result) t->finish(*result);
    t->release_easy();

    if (record) {
      std::string_view outcome = t->failure ? to_string(t->failure->kind()) : status_class(t->response.status);
      requests_.with({detail::method_label(t->request.method), outcome}).inc();
      seconds_.with({outcome}).observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t->started).count());
    }

    if (!t->handler) return;
    // Resumes the sender on its own executor (Boost 1.81 cannot post an
    // any_completion_handler to its associated executor directly).
    auto executor = std::move(t->work);
    auto resume = [handler = std::move(*t->handler)]() mutable { std::move(handler)(); };
    t->handler.reset();
    asio::post(executor, std::move(resume));
  }

  // Strand: hands finished transfers back to their senders.
  void check_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      auto it = active_.find(msg->easy_handle);
      if (it == active_.end()) continue;
      CURLcode result = msg->data.result;  // msg dies with remove_handle
      auto t = it->second;
      complete(t, result);
    }
  }

  void socket_action(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, events, &running);
    check_done();
  }

  // --- curl's socket callback ------------------------------------------------

  static int socket_callback(CURL*, curl_socket_t fd, int what, void* self, void* known) noexcept {
    try {
      static_cast<Driver*>(self)->on_socket(fd, what, static_cast<Watch*>(known));
      return 0;
    } catch (...) {
      return -1;  // curl fails the transfers on this socket
    }
  }

  void on_socket(curl_socket_t fd, int what, Watch* known) {
    if (what == CURL_POLL_REMOVE) {
      drop(fd);
      return;
    }
    auto& w = watches_[fd];
    // curl hands back the pointer we assigned; none (or another) means a new
    // socket that reuses the number of one we never heard being removed.
    if (!w || w.get() != known) {
      if (w) forget(*w);
      w = std::make_shared<Watch>(strand_, fd);
      curl_multi_assign(multi_, fd, w.get());
    }
    w->wanted = what;
    if (what & CURL_POLL_IN) arm(w, 0);
    if (what & CURL_POLL_OUT) arm(w, 1);
  }

  void arm(const std::shared_ptr<Watch>& w, int direction) {
    if (w->waiting[direction]) return;
    w->waiting[direction] = true;
    auto type = direction == 0 ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
    w->descriptor.async_wait(type,
                             asio::bind_executor(strand_, [self = shared_from_this(), w, direction](error_code ec) {
                               self->on_ready(w, direction, ec);
                             }));
  }

  void on_ready(const std::shared_ptr<Watch>& w, int direction, error_code ec) {
    w->waiting[direction] = false;
    const int flag = direction == 0 ? CURL_POLL_IN : CURL_POLL_OUT;
    if (!multi_ || !w->live || ec == asio::error::operation_aborted || !(w->wanted & flag)) return;
    // Any other error is left for curl to find on the socket.
    socket_action(w->fd, ec ? CURL_CSELECT_ERR : (direction == 0 ? CURL_CSELECT_IN : CURL_CSELECT_OUT));
    if (multi_ && w->live && (w->wanted & flag)) arm(w, direction);
  }

  void drop(curl_socket_t fd) {
    auto it = watches_.find(fd);
    if (it == watches_.end()) return;
    forget(*it->second);
    watches_.erase(it);
  }

  // Stops watching without closing: pending waits end with operation_aborted.
  static void forget(Watch& w) {
    w.live = false;
    w.descriptor.release();
  }

  // Sockets are opened by the transfer (on_open_socket, where the SSRF guard
  // sits) and closed here, so no watch outlives its descriptor.
  static int close_socket_callback(void* self, curl_socket_t fd) noexcept {
    static_cast<Driver*>(self)->drop(fd);
    return ::close(fd);
  }

  // --- curl's timer ----------------------------------------------------------

  static int timer_callback(CURLM*, long timeout_ms, void* self) noexcept {
    try {
      static_cast<Driver*>(self)->on_timer(timeout_ms);
      return 0;
    } catch (...) {
      return -1;
    }
  }

  // curl wants one timeout at a time, moved often (several times per
  // transfer). Arming an Asio timer that becomes the earliest costs a
  // timerfd_settime system call, so the timer is only moved earlier, never
  // later: firing before curl's deadline just re-arms for it. A zero timeout
  // ("as soon as you can") is a post, not a timer. curl must not be
  // re-entered from its own callback, so nothing runs inline.
  void on_timer(long timeout_ms) {
    if (timeout_ms < 0) {
      curl_deadline_ = Clock::time_point::max();  // an armed wait finds nothing due
      return;
    }
    const auto now = Clock::now();
    curl_deadline_ = now + std::chrono::milliseconds(timeout_ms);
    if (timeout_ms == 0) {
      asio::post(strand_, [self = shared_from_this()] { self->on_deadline(); });
      return;
    }
    if (timer_armed_ && timer_.expiry() <= curl_deadline_) return;
    arm_timer();
  }

  void arm_timer() {
    timer_armed_ = true;
    timer_.expires_at(curl_deadline_);
    timer_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](error_code ec) {
      // Cancelled only when moved earlier (a newer wait is pending) or at shutdown.
      if (ec) return;
      self->timer_armed_ = false;
      self->on_deadline();
    }));
  }

  // Strand: curl's timeout is due (or a wait fired early for it).
  void on_deadline() {
    if (!multi_ || curl_deadline_ == Clock::time_point::max()) return;
    if (Clock::now() < curl_deadline_) {
      if (!timer_armed_) arm_timer();
      return;
    }
    curl_deadline_ = Clock::time_point::max();
    socket_action(CURL_SOCKET_TIMEOUT, 0);
  }

  Strand strand_;
  asio::steady_timer timer_;
  using Clock = asio::steady_timer::clock_type;
  Clock::time_point curl_deadline_ = Clock::time_point::max();  // when curl wants socket_action(TIMEOUT)
  bool timer_armed_ = false;
  const HttpClientConfig config_;
  const ssrf::AllowList allow_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& seconds_;
  metrics::Gauge& in_flight_;
  metrics::Counter& connections_opened_;
  detail::EasySettings easy_;
  CURLM* multi_ = nullptr;
  std::unordered_map<CURL*, std::shared_ptr<Transfer>> active_;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> watches_;
};

// Hands the transfer to the driver and arranges for the sender's cancellation
// to abort it.
struct StartTransfer {
  std::shared_ptr<Driver> driver;
  std::shared_ptr<Transfer> transfer;

  template <class Handler>
  void operator()(Handler&& handler) {
    transfer->work = asio::prefer(asio::any_io_executor(asio::get_associated_executor(handler, driver->strand())),
                                  asio::execution::outstanding_work.tracked);
    transfer->handler.emplace(std::forward<Handler>(handler));
    // The type-erased handler has installed its own cancellation state in the
    // sender's slot, so ours goes into the slot it exposes.
    auto slot = asio::get_associated_cancellation_slot(*transfer->handler);
    if (slot.is_connected()) {
      slot.assign([weak_driver = std::weak_ptr<Driver>(driver),
                   weak = std::weak_ptr<Transfer>(transfer)](asio::cancellation_type) {
        if (auto d = weak_driver.lock()) d->cancel(weak);
      });
    }
    asio::post(driver->strand(), [d = driver, t = transfer] { d->start(t); });
  }
};

class CurlClient final : public HttpClient {
 public:
  explicit CurlClient(std::shared_ptr<Driver> driver) : driver_(std::move(driver)) {}
  ~CurlClient() override {
    asio::post(driver_->strand(), [d = driver_] { d->shutdown(); });
  }

  asio::awaitable<ClientResponse> send(ClientRequest request) override {
    auto t = std::make_shared<Transfer>(std::move(request));
    t->setup(driver_->easy_settings());
    StartTransfer start{driver_, t};
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(std::move(start), asio::use_awaitable);
    if (t->chunk_failure) std::rethrow_exception(t->chunk_failure);
    if (t->failure) throw *t->failure;
    co_return std::move(t->response);
  }

 private:
  std::shared_ptr<Driver> driver_;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_client(asio::any_io_executor executor, HttpClientConfig config,
                                             metrics::Registry& metrics) {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
  return std::make_unique<CurlClient>(std::make_shared<Driver>(std::move(executor), std::move(config), metrics));
}

}  // namespace huntaze::http
