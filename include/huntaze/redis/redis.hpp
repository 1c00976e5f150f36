// The Redis seam every module uses: binary-safe commands, pipelining, Lua
// scripts and pub/sub over hiredis' async API driven by the io_context.
//
//   auto r = co_await redis.command("SET", key, value, "PX", "60000");
//   std::vector<redis::Command> batch{{"INCR", k}, {"PEXPIRE", k, "60000"}};  // outside the co_await (GCC 12)
//   auto replies = co_await redis.pipeline(std::move(batch));
//
// Failure model: while Redis is unreachable every call fails fast with
// RedisUnavailable (an ApiError, 503 redis_unavailable) instead of hanging;
// callers that can degrade (cache, rate limiter) catch it. A command that gets
// no answer within redis.command_timeout fails the same way. The client
// reconnects in the background with exponential backoff.
//
// Thread-safety: safe to use from any number of coroutines on any thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <concepts>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "huntaze/core/error.hpp"

namespace huntaze::redis {

namespace asio = boost::asio;

struct Reply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  int64_t integer = 0;
  std::string str;  // status, error or bulk string (binary-safe)
  std::vector<Reply> elements;

  bool is_nil() const noexcept { return type == Type::nil; }
  bool is_error() const noexcept { return type == Type::error; }
};

// Redis answered with an error reply (WRONGTYPE, a script error, ...).
class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RedisUnavailable : public ApiError {
 public:
  explicit RedisUnavailable(std::string message) : ApiError(503, "redis_unavailable", std::move(message)) {}
};

// A Lua script run with EVALSHA; loaded on demand when the server answers
// NOSCRIPT (after a restart or SCRIPT FLUSH).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const noexcept { return source_; }
  const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;  // lower-case hex
};

using Command = std::vector<std::string>;

struct Message {
  std::string channel;
  std::string payload;
};

// A pub/sub connection of its own. After a reconnect it re-subscribes to every
// channel; messages published while it was down are lost (pub/sub semantics).
// Thread-safety: one coroutine calls next().
class Subscription {
 public:
  virtual ~Subscription() = default;
  virtual asio::awaitable<Message> next() = 0;
  // Makes a pending next() throw boost::system::system_error(operation_aborted).
  virtual void close() = 0;
};

class Redis {
 public:
  virtual ~Redis() = default;
  // One command. An error reply throws RedisError.
  virtual asio::awaitable<Reply> command(Command args) = 0;
  // The same with the arguments listed directly: command("SET", key, value).
  // Prefer this inside coroutines: GCC 12 miscompiles a braced list
  // ({"SET", key}) written inside a co_await expression.
  template <class First, class... Rest>
    requires(!std::same_as<std::remove_cvref_t<First>, Command>)
  asio::awaitable<Reply> command(First&& first, Rest&&... rest) {
    return command(Command{std::string(std::forward<First>(first)), std::string(std::forward<Rest>(rest))...});
  }
  // Several commands sent together, replies in order. Error replies are
  // returned in place (type error), not thrown.
  virtual asio::awaitable<std::vector<Reply>> pipeline(std::vector<Command> commands) = 0;
  virtual asio::awaitable<Reply> eval(const Script& script, std::vector<std::string> keys,
                                      std::vector<std::string> args) = 0;
  // Subscribed to `channels` once it returns.
  virtual asio::awaitable<std::unique_ptr<Subscription>> subscribe(std::vector<std::string> channels) = 0;
  virtual bool connected() const = 0;
  virtual void close() = 0;
};

}  // namespace huntaze::redis
