// One Redis connection that keeps itself up: resolves the host, connects
// (with a timeout hiredis 0.14 lacks), sends AUTH and SELECT, and after a
// failure or a drop() reconnects with exponential backoff and jitter until
// stop(). Subclasses add what the connection is for (multiplexed commands,
// pub/sub) through the protected hooks.
//
// Threading: one strand per link. Every hiredis call and every hook runs on
// it; only start(), stop() and ready() may be called from elsewhere.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "huntaze/redis/config.hpp"
#include "redis/asio_adapter.hpp"

namespace huntaze::redis::detail {

namespace asio = boost::asio;

class Link : public std::enable_shared_from_this<Link> {
 public:
  Link(asio::any_io_executor executor, RedisConfig config, std::string role);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  virtual ~Link() = default;

  void start();  // the first attempt begins at once
  void stop();   // tears the connection down for good
  // True from a completed handshake until the connection is lost or dropped.
  bool ready() const noexcept { return ready_.load(std::memory_order_acquire); }

 protected:
  const Strand& strand() const noexcept { return strand_; }
  const RedisConfig& config() const noexcept { return config_; }
  // The live context once ready, else null.
  redisAsyncContext* context() const noexcept { return phase_ == Phase::ready ? ac_ : nullptr; }
  // During on_session_start(): the context to queue set-up commands on.
  redisAsyncContext* handshaking_context() const noexcept { return ac_; }
  // The Link a hiredis callback belongs to (ac->data).
  static Link* from(const redisAsyncContext* ac) noexcept;

  // The connection is sick (timeout, failed handshake): stop using it at
  // once, free it from a later strand turn, reconnect after the backoff.
  // `why` ends up in the "connection lost" log line.
  void drop(std::string_view why);
  // Ends the handshake that on_session_start() began.
  void mark_ready();

  // AUTH/SELECT succeeded: queue whatever else the session needs and call
  // mark_ready() when it is usable (possibly from inside this call).
  virtual void on_session_start() = 0;
  virtual void on_ready(bool reconnected) { (void)reconnected; }
  virtual void on_lost() {}
  // Whether to keep retrying when the first attempt fails; a link that
  // reports the failure to a waiter instead returns false and stops.
  virtual bool retry_first_attempt() { return true; }
  virtual void on_stopped() {}

 private:
  enum class Phase { down, connecting, ready, dropping };

  asio::awaitable<void> run();
  asio::awaitable<bool> connect_once();
  asio::awaitable<void> wait_until_lost();
  asio::awaitable<void> sleep(std::chrono::milliseconds delay);
  asio::awaitable<std::string> resolve();
  std::chrono::milliseconds jittered(std::chrono::milliseconds backoff);
  void log_failure();

  void begin_handshake();
  void free_context();
  void on_context_freed();
  void wake() { wake_.cancel(); }

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata);

  RedisConfig config_;
  std::string role_;  // "command" or "subscriber", for logs
  Strand strand_;
  asio::steady_timer wake_;  // sleeps and timeouts; cancel() wakes the loop early
  asio::ip::tcp::resolver resolver_;
  std::minstd_rand rng_;

  // Strand-only state.
  redisAsyncContext* ac_ = nullptr;
  uint64_t generation_ = 0;  // bumped per context, so a late drop() misses the next one
  Phase phase_ = Phase::down;
  int handshake_pending_ = 0;
  size_t next_address_ = 0;  // rotates through resolved addresses across attempts
  bool stopped_ = false;
  bool failing_ = false;  // the last attempt failed too: log quietly
  std::string last_error_;  // why the current or last context failed, for logs
  std::atomic<bool> ready_{false};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace huntaze::redis::detail
