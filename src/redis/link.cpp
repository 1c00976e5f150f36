#include "redis/link.hpp"

#include <hiredis/async.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <vector>

#include "huntaze/core/log.hpp"
#include "redis/reply.hpp"

namespace huntaze::redis::detail {

Link::Link(asio::any_io_executor executor, RedisConfig config, std::string role)
    : config_(std::move(config)),
      role_(std::move(role)),
      strand_(asio::make_strand(executor)),
      wake_(strand_),
      resolver_(strand_),
      rng_(std::random_device{}()) {}

Link* Link::from(const redisAsyncContext* ac) noexcept { return static_cast<Link*>(ac->data); }

void Link::start() {
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->run(); }, [role = role_](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("redis connection loop failed", {{"role", role}, {"error", ex.what()}});
    } catch (...) {
      log::error("redis connection loop failed", {{"role", role}});
    }
  });
}

void Link::stop() {
  // Callers stop picking this link now, not a strand turn later.
  stop_requested_.store(true, std::memory_order_release);
  ready_.store(false, std::memory_order_release);
  asio::post(strand_, [self = shared_from_this()] {
    if (self->stopped_) return;
    self->stopped_ = true;
    self->ready_.store(false, std::memory_order_release);
    self->resolver_.cancel();
    self->free_context();
    self->wake();
  });
}

asio::awaitable<void> Link::run() {
  auto backoff = config_.reconnect_min;
  bool ever_ready = false;
  for (bool first = true; !stopped_; first = false) {
    if (!first) {
      co_await sleep(jittered(backoff));
      backoff = std::min(backoff * 2, config_.reconnect_max);
      if (stopped_) break;
    }
    const bool up = co_await connect_once();
    if (!up) {
      if (!ever_ready && !stopped_ && !retry_first_attempt()) break;
      continue;
    }
    log::info("redis connected", {{"role", role_}, {"host", config_.host}, {"port", config_.port}});
    failing_ = false;
    backoff = config_.reconnect_min;
    on_ready(ever_ready);
    ever_ready = true;
    co_await wait_until_lost();
    if (!stopped_)
      log::warn("redis connection lost",
                {{"role", role_}, {"host", config_.host}, {"port", config_.port}, {"error", last_error_}});
    on_lost();
  }
  stopped_ = true;
  ready_.store(false, std::memory_order_release);
  free_context();
  on_stopped();
}

asio::awaitable<bool> Link::connect_once() {
  last_error_.clear();
  const std::string address = co_await resolve();
  if (stopped_) co_return false;
  if (address.empty()) {
    log_failure();
    co_return false;
  }

  // Non-blocking: the address is numeric, so hiredis' getaddrinfo does no DNS.
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), config_.port);
  if (!ac || ac->err) {
    last_error_ = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    ++next_address_;
    log_failure();
    co_return false;
  }
  ac->data = this;
  bool attached = false;
  try {
    attach_asio(ac, strand_, [self = shared_from_this()] { self->on_context_freed(); });
    attached = true;
  } catch (const std::exception& e) {
    last_error_ = e.what();
  }
  if (!attached) {
    redisAsyncFree(ac);
    log_failure();
    co_return false;
  }
  ac_ = ac;
  ++generation_;
  phase_ = Phase::connecting;
  redisAsyncSetConnectCallback(ac, &Link::on_connect);  // also starts watching for writability
  redisAsyncSetDisconnectCallback(ac, &Link::on_disconnect);

  // hiredis 0.14 has no async connect timeout: the timer covers TCP connect
  // and the whole handshake. Callbacks wake us early by cancelling it.
  wake_.expires_after(config_.connect_timeout);
  boost::system::error_code ec;
  co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (phase_ == Phase::ready && !stopped_) co_return true;
  if (stopped_) co_return false;
  if (ac_ && last_error_.empty()) last_error_ = "connect timed out";
  free_context();
  ++next_address_;
  log_failure();
  co_return false;
}

asio::awaitable<void> Link::wait_until_lost() {
  while (ac_ && !stopped_) {
    wake_.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Link::sleep(std::chrono::milliseconds delay) {
  wake_.expires_after(delay);
  boost::system::error_code ec;
  co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The host as a numeric address: as is when it is one, otherwise resolved
// by Asio (getaddrinfo on Asio's resolver thread, never on an I/O thread).
// Successive failed attempts rotate through the resolved addresses.
asio::awaitable<std::string> Link::resolve() {
  boost::system::error_code ec;
  const auto numeric = asio::ip::make_address(config_.host, ec);
  if (!ec) co_return numeric.to_string();
  const std::string service = std::to_string(config_.port);  // no temporaries in co_await (GCC 12)
  const auto results =
      co_await resolver_.async_resolve(config_.host, service, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || results.empty()) {
    last_error_ = "cannot resolve " + config_.host + ": " + (ec ? ec.message() : "no address");
    co_return std::string();
  }
  std::vector<std::string> addresses;
  for (const auto& entry : results) addresses.push_back(entry.endpoint().address().to_string());
  co_return addresses[next_address_ % addresses.size()];
}

// "Equal jitter": half the backoff plus a random part of the other half, so
// many clients that lost Redis together do not come back in lockstep.
std::chrono::milliseconds Link::jittered(std::chrono::milliseconds backoff) {
  const auto half = backoff.count() / 2;
  std::uniform_int_distribution<int64_t> extra(0, std::max<int64_t>(half, 0));
  return std::chrono::milliseconds(backoff.count() - half + extra(rng_));
}

void Link::log_failure() {
  // A Redis that stays down should not flood the log: the first failure of a
  // series is a warning, the retries are debug.
  const log::Fields fields = {
      {"role", role_}, {"host", config_.host}, {"port", config_.port}, {"error", last_error_}};
  if (!failing_) log::warn("redis connect failed", fields);
  else log::debug("redis connect failed", fields);
  failing_ = true;
}

void Link::drop(std::string_view why) {
  if (!ac_ || phase_ == Phase::dropping) return;
  last_error_ = std::string(why);
  ready_.store(false, std::memory_order_release);
  phase_ = Phase::dropping;
  // Freeing right here could be inside a hiredis callback (or onConnect,
  // where hiredis 0.14 would touch the freed context afterwards).
  asio::post(strand_, [self = shared_from_this(), generation = generation_] {
    if (self->generation_ == generation) self->free_context();
  });
}

void Link::mark_ready() {
  if (phase_ != Phase::connecting || stop_requested_.load(std::memory_order_acquire)) return;
  phase_ = Phase::ready;
  ready_.store(true, std::memory_order_release);
  wake();
}

void Link::free_context() {
  if (!ac_) return;
  ready_.store(false, std::memory_order_release);
  phase_ = Phase::dropping;
  // Runs every pending callback with a NULL reply, then ev.cleanup, which
  // reaches on_context_freed() through the adapter.
  redisAsyncFree(ac_);
}

void Link::on_context_freed() {
  ac_ = nullptr;
  phase_ = Phase::down;
  ready_.store(false, std::memory_order_release);
  wake();
}

void Link::begin_handshake() {
  handshake_pending_ = 0;
  auto send = [this](const Command& command) {
    Argv argv(command);
    if (redisAsyncCommandArgv(ac_, &Link::on_handshake_reply, nullptr, argv.argc(), argv.argv(), argv.lengths()) ==
        REDIS_OK)
      ++handshake_pending_;
    else
      drop("cannot queue the handshake");
  };
  if (!config_.password.empty()) send({"AUTH", config_.password.reveal()});
  if (config_.database != 0) send({"SELECT", std::to_string(config_.database)});
  if (handshake_pending_ == 0 && phase_ == Phase::connecting) on_session_start();
}

void Link::on_connect(const redisAsyncContext* ac, int status) {
  Link* self = from(ac);
  if (status != REDIS_OK) {
    // hiredis frees the context right after this returns.
    self->last_error_ = ac->errstr ? ac->errstr : "connect failed";
    return;
  }
  self->begin_handshake();
}

void Link::on_disconnect(const redisAsyncContext* ac, int status) {
  if (status != REDIS_OK && ac->errstr) from(ac)->last_error_ = ac->errstr;
}

void Link::on_handshake_reply(redisAsyncContext* ac, void* reply, void*) {
  Link* self = from(ac);
  const auto* r = static_cast<const redisReply*>(reply);
  if (!r) return;  // the context is going away
  if (r->type == REDIS_REPLY_ERROR) {
    // AUTH/SELECT errors name no secret ("WRONGPASS invalid username-password pair").
    self->drop(std::string("handshake failed: ") + std::string(r->str, r->len));
    return;
  }
  if (--self->handshake_pending_ == 0 && self->phase_ == Phase::connecting) self->on_session_start();
}

}  // namespace huntaze::redis::detail
