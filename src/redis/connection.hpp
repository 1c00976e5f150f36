// A multiplexed command connection: every caller's commands are pipelined on
// one hiredis context and matched to replies in order. A caller whose reply
// takes longer than command_timeout gets RedisUnavailable and the connection
// is dropped and reconnected: the replies it still owes are never read, and
// everything else in flight on it fails the same way. Per-operation
// cancellation is supported: the caller gets operation_aborted at once.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <vector>

#include "huntaze/redis/redis.hpp"
#include "redis/completion.hpp"
#include "redis/link.hpp"
#include "redis/metrics.hpp"

namespace huntaze::redis::detail {

class CommandConnection final : public Link {
 public:
  CommandConnection(asio::any_io_executor executor, RedisConfig config, const RedisMetrics& metrics);
  ~CommandConnection() override;

  // Sends `commands` back to back; their replies in order, error replies in
  // place. Throws RedisUnavailable when the connection is down, is lost
  // before every reply arrived, or the replies take too long.
  asio::awaitable<std::vector<Reply>> execute(std::vector<Command> commands);

 private:
  struct Pending;
  struct Canceller;
  enum class Outcome { unavailable, timeout, cancelled };

  void submit(std::unique_ptr<Pending> op);
  void handle_reply(Pending& op, const void* reply);
  void succeed(Pending& op);
  void fail(Pending& op, Outcome outcome);
  void cancel(uint64_t id);
  void erase(const Pending& op);
  Pending* first_open();
  void arm_deadline();
  void check_deadline();
  std::shared_ptr<CommandConnection> shared_this();

  static void on_reply(struct redisAsyncContext* ac, void* reply, void* privdata);

  void on_session_start() override { mark_ready(); }
  void on_ready(bool reconnected) override;
  void on_lost() override;
  void on_stopped() override;

  RedisMetrics metrics_;  // a copy: the connection may outlive the client that made it
  // Strand-only. In send order, which is reply order; an op stays until
  // hiredis has called back for each of its commands, even once completed.
  std::deque<std::unique_ptr<Pending>> inflight_;
  // One timer for the whole connection, set for the oldest open op: every op
  // has the same timeout, so deadlines are in send order too.
  asio::steady_timer deadline_;
  bool deadline_armed_ = false;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace huntaze::redis::detail
