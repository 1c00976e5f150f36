#include "listener.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <deque>
#include <optional>

#include "huntaze/core/log.hpp"

namespace huntaze::db::pg {

namespace {

using namespace std::chrono_literals;
using Strand = asio::strand<asio::any_io_executor>;

constexpr std::chrono::milliseconds kFirstBackoff = 100ms;
constexpr std::chrono::milliseconds kMaxBackoff = 5000ms;

boost::system::system_error aborted() {
  return boost::system::system_error(asio::error::operation_aborted);
}

// Everything runs on one strand: next(), listen() and close() touch the same
// connection and channel list, possibly from different io threads.
class ListenerState final : public ListenerControl, public std::enable_shared_from_this<ListenerState> {
 public:
  ListenerState(const asio::any_io_executor& executor, ConnectOptions options)
      : strand_(asio::make_strand(executor)), backoff_(strand_), options_(std::move(options)) {}

  const Strand& strand() const { return strand_; }

  static asio::awaitable<void> connect(std::shared_ptr<ListenerState> self) {
    self->conn_ = co_await Connection::open(self->strand_, self->options_);
  }

  static asio::awaitable<void> listen(std::shared_ptr<ListenerState> self, std::string channel) {
    if (self->closed_) throw aborted();
    auto& channels = self->channels_;
    if (std::find(channels.begin(), channels.end(), channel) != channels.end()) co_return;
    channels.push_back(channel);
    // A copy: next() may drop conn_ while this LISTEN is in flight.
    std::shared_ptr<Connection> conn = self->conn_;
    if (!conn) co_return;  // reconnecting; the reconnect issues every LISTEN
    std::optional<DbError> failure;
    try {
      co_await conn->simple("LISTEN " + conn->quote_identifier(channel));
    } catch (const DbError& e) {
      failure = e;
    }
    if (!failure || conn->broken()) co_return;  // a lost connection re-issues it on reconnect
    channels.erase(std::find(channels.begin(), channels.end(), channel));
    throw *failure;
  }

  static asio::awaitable<Notification> next(std::shared_ptr<ListenerState> self) {
    for (;;) {
      if (self->closed_) throw aborted();
      if (!self->pending_.empty()) {
        Notification n = std::move(self->pending_.front());
        self->pending_.pop_front();
        co_return n;
      }
      if (!self->conn_) {
        co_await self->reconnect();
        if (self->closed_) throw aborted();
        // Whatever was sent while we were away is lost; say so.
        co_return Notification{{}, {}, true};
      }
      std::shared_ptr<Connection> conn = self->conn_;
      // listen() may have read and parsed notifications already.
      if (self->collect(*conn)) continue;
      const auto ec = co_await conn->wait_readable();
      if (self->closed_) throw aborted();
      const bool alive = !ec && conn->consume_input();
      self->collect(*conn);
      if (!alive) {
        log::warn("database listener connection lost; reconnecting");
        if (self->conn_ == conn) self->conn_.reset();
      }
    }
  }

  void close() override {
    asio::post(strand_, [self = shared_from_this()] {
      self->closed_ = true;
      self->backoff_.cancel();
      if (self->conn_) {
        self->conn_->cancel();
        self->conn_.reset();
      }
    });
  }

 private:
  bool collect(Connection& conn) {
    auto arrived = conn.take_notifications();
    for (auto& n : arrived) pending_.push_back(std::move(n));
    return !arrived.empty();
  }

  asio::awaitable<void> reconnect() {
    auto delay = kFirstBackoff;
    for (int attempt = 0;; ++attempt) {
      if (closed_) co_return;
      if (attempt > 0) {
        backoff_.expires_after(delay);
        boost::system::error_code ec;
        co_await backoff_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (closed_) co_return;
        delay = std::min(delay * 2, kMaxBackoff);
      }
      std::string error;
      try {
        std::shared_ptr<Connection> conn = co_await Connection::open(strand_, options_);
        // Index, not iterators: listen() may add channels while we await.
        for (size_t i = 0; i < channels_.size(); ++i)
          co_await conn->simple("LISTEN " + conn->quote_identifier(channels_[i]));
        if (closed_) co_return;
        conn_ = std::move(conn);
        log::info("database listener reconnected", {{"channels", static_cast<int64_t>(channels_.size())}});
        co_return;
      } catch (const std::exception& e) {
        error = e.what();
      }
      log::warn("database listener reconnect failed",
                {{"error", error}, {"retry_in_ms", static_cast<int64_t>(delay.count())}});
    }
  }

  Strand strand_;
  asio::steady_timer backoff_;
  const ConnectOptions options_;
  std::shared_ptr<Connection> conn_;  // null while reconnecting
  std::vector<std::string> channels_;
  std::deque<Notification> pending_;
  bool closed_ = false;
};

class PgListener final : public Listener {
 public:
  explicit PgListener(std::shared_ptr<ListenerState> state) : state_(std::move(state)) {}
  ~PgListener() override { state_->close(); }

  asio::awaitable<void> listen(std::string channel) override {
    co_await asio::co_spawn(state_->strand(), ListenerState::listen(state_, std::move(channel)), asio::use_awaitable);
  }

  asio::awaitable<Notification> next() override {
    co_return co_await asio::co_spawn(state_->strand(), ListenerState::next(state_), asio::use_awaitable);
  }

  void close() override { state_->close(); }

 private:
  std::shared_ptr<ListenerState> state_;
};

}  // namespace

asio::awaitable<OpenedListener> open_listener(asio::any_io_executor executor, ConnectOptions options) {
  auto state = std::make_shared<ListenerState>(executor, std::move(options));
  co_await asio::co_spawn(state->strand(), ListenerState::connect(state), asio::use_awaitable);
  OpenedListener opened;
  opened.control = state;
  opened.listener = std::make_unique<PgListener>(state);
  co_return opened;
}

}  // namespace huntaze::db::pg
