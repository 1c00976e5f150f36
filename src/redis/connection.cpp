#include "redis/connection.hpp"

#include <hiredis/async.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>

#include "redis/reply.hpp"

namespace huntaze::redis::detail {

using Clock = std::chrono::steady_clock;
using Handler = Completion<void(std::exception_ptr, std::vector<Reply>)>;

struct CommandConnection::Pending {
  uint64_t id = 0;  // what a cancellation names: the op itself may be gone by then
  Handler handler;
  std::vector<Command> commands;  // until hiredis has copied them into its output buffer
  std::vector<Reply> replies;
  size_t count = 0;        // commands in this op, for the metrics
  size_t outstanding = 0;  // hiredis callbacks still to come
  bool done = false;       // the caller has been answered
  Clock::time_point started;
  Clock::time_point deadline;
};

// Per-operation cancellation (e.g. `co_await (redis.command(...) || timer)`):
// the caller is answered with operation_aborted at once; the reply, when it
// comes, is ignored. Emitted on the caller's side, so it only posts to the
// strand, and it stays harmless after the op has completed.
struct CommandConnection::Canceller {
  std::weak_ptr<CommandConnection> connection;
  uint64_t id;

  void operator()(asio::cancellation_type type) const {
    if (type == asio::cancellation_type::none) return;
    if (auto c = connection.lock()) asio::post(c->strand(), [c, id = id] { c->cancel(id); });
  }
};

CommandConnection::CommandConnection(asio::any_io_executor executor, RedisConfig config, const RedisMetrics& metrics)
    : Link(std::move(executor), std::move(config), "command"), metrics_(metrics), deadline_(strand()) {}

CommandConnection::~CommandConnection() = default;

std::shared_ptr<CommandConnection> CommandConnection::shared_this() {
  return std::static_pointer_cast<CommandConnection>(shared_from_this());
}

asio::awaitable<std::vector<Reply>> CommandConnection::execute(std::vector<Command> commands) {
  if (!ready()) {
    // Fail fast: no waiting for a connection that may take seconds to return.
    metrics_.unavailable.inc(static_cast<double>(commands.size()));
    throw RedisUnavailable("redis is not connected");
  }
  // A named initiation: GCC 12 destroys a lambda temporary with non-trivial
  // captures twice when it appears inside a co_await expression.
  auto initiation = [self = shared_this()](auto handler, std::vector<Command> commands) {
    auto op = std::make_unique<Pending>();
    op->id = self->next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
    op->handler = Handler(std::move(handler), self->strand().get_inner_executor());
    if (auto slot = op->handler.cancellation_slot(); slot.is_connected()) slot.emplace<Canceller>(self, op->id);
    op->count = commands.size();
    op->commands = std::move(commands);
    op->started = Clock::now();
    op->deadline = op->started + self->config().command_timeout;
    asio::post(self->strand(), [self, op = std::move(op)]() mutable { self->submit(std::move(op)); });
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(std::exception_ptr, std::vector<Reply>)>(
      std::move(initiation), asio::use_awaitable, std::move(commands));
}

void CommandConnection::submit(std::unique_ptr<Pending> op) {
  redisAsyncContext* ac = context();
  if (!ac) {
    fail(*op, Outcome::unavailable);  // lost between the caller's check and now
    return;
  }
  Pending& p = *op;
  inflight_.push_back(std::move(op));
  for (const auto& command : p.commands) {
    Argv argv(command);
    if (redisAsyncCommandArgv(ac, &CommandConnection::on_reply, &p, argv.argc(), argv.argv(), argv.lengths()) !=
        REDIS_OK) {
      // hiredis refuses only a context it is tearing down (or on OOM).
      fail(p, Outcome::unavailable);
      drop("hiredis refused a command");
      break;
    }
    ++p.outstanding;
  }
  std::vector<Command>().swap(p.commands);  // large values need not stay twice in memory
  if (p.outstanding == 0) erase(p);
  else arm_deadline();
}

void CommandConnection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  static_cast<CommandConnection*>(Link::from(ac))->handle_reply(*static_cast<Pending*>(privdata), reply);
}

// hiredis calls back exactly once per queued command: with its reply, or
// with NULL when the context is freed first. Only then may the op go.
void CommandConnection::handle_reply(Pending& op, const void* reply) {
  if (!op.done) {
    if (reply) op.replies.push_back(to_reply(*static_cast<const redisReply*>(reply)));
    else fail(op, Outcome::unavailable);
  }
  if (--op.outstanding > 0) return;
  if (!op.done) succeed(op);
  erase(op);
}

void CommandConnection::succeed(Pending& op) {
  op.done = true;
  const auto errors = std::count_if(op.replies.begin(), op.replies.end(), [](const Reply& r) { return r.is_error(); });
  metrics_.error.inc(static_cast<double>(errors));
  metrics_.ok.inc(static_cast<double>(op.replies.size() - static_cast<size_t>(errors)));
  metrics_.duration.observe(std::chrono::duration<double>(Clock::now() - op.started).count());
  op.handler.complete(strand().get_inner_executor(), std::exception_ptr(), std::move(op.replies));
}

void CommandConnection::fail(Pending& op, Outcome outcome) {
  op.done = true;
  std::exception_ptr error;
  if (outcome == Outcome::timeout || outcome == Outcome::cancelled) {
    // A caller that gives up on its own deadline saw a timeout too.
    metrics_.timeout.inc(static_cast<double>(op.count));
    metrics_.duration.observe(std::chrono::duration<double>(Clock::now() - op.started).count());
    error = outcome == Outcome::timeout
                ? std::make_exception_ptr(RedisUnavailable("redis command timed out"))
                : std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted));
  } else {
    metrics_.unavailable.inc(static_cast<double>(op.count));
    error = std::make_exception_ptr(RedisUnavailable("redis connection lost"));
  }
  op.handler.complete(strand().get_inner_executor(), std::move(error), std::vector<Reply>());
}

void CommandConnection::cancel(uint64_t id) {
  for (auto& op : inflight_)
    if (op->id == id && !op->done) fail(*op, Outcome::cancelled);
}

void CommandConnection::erase(const Pending& op) {
  // Nearly always the front: replies come back in send order.
  auto it = std::find_if(inflight_.begin(), inflight_.end(), [&](const auto& p) { return p.get() == &op; });
  if (it != inflight_.end()) inflight_.erase(it);
}

CommandConnection::Pending* CommandConnection::first_open() {
  for (auto& op : inflight_)
    if (!op->done) return op.get();
  return nullptr;
}

void CommandConnection::arm_deadline() {
  if (deadline_armed_) return;
  Pending* first = first_open();
  if (!first) return;
  deadline_armed_ = true;
  deadline_.expires_at(first->deadline);
  deadline_.async_wait(asio::bind_executor(strand(), [self = shared_this()](const boost::system::error_code& ec) {
    self->deadline_armed_ = false;
    if (ec != asio::error::operation_aborted) self->check_deadline();
  }));
}

// Lazy re-arming: the timer fires at most once per command_timeout and only
// then looks for the next deadline, instead of being reset per reply.
void CommandConnection::check_deadline() {
  Pending* first = first_open();
  if (!first) return;
  if (first->deadline > Clock::now()) {
    arm_deadline();
    return;
  }
  fail(*first, Outcome::timeout);
  // Everything behind it waits on the same stuck connection: drop it. Its
  // late replies are never read; the other ops fail when it is freed.
  drop("a command timed out");
}

void CommandConnection::on_ready(bool reconnected) {
  if (reconnected) metrics_.reconnects.inc();
  metrics_.connected.inc();
}

void CommandConnection::on_lost() { metrics_.connected.dec(); }

void CommandConnection::on_stopped() { deadline_.cancel(); }

}  // namespace huntaze::redis::detail
