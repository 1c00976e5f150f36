// The Redis client: a fixed set of multiplexed command connections used
// round-robin, plus one dedicated connection per subscription.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include "redis/connection.hpp"
#include "redis/metrics.hpp"
#include "redis/redis_client.hpp"
#include "redis/subscription.hpp"

namespace huntaze::redis {

namespace {

using detail::CommandConnection;
using detail::SubscriberLink;

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return std::toupper(static_cast<unsigned char>(x)) == y; });
}

// Commands that change the state of the connection they run on would leak
// into every other caller multiplexed on it (a SELECT switches their
// database, a SUBSCRIBE swallows their replies, an open MULTI queues their
// commands into someone's transaction). They are refused; pub/sub has
// subscribe(), and MULTI ... EXEC works inside one pipeline(), whose commands
// are sent back to back on one connection.
void check(const std::vector<Command>& commands) {
  static constexpr std::string_view refused[] = {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                                                 "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "SELECT",
                                                 "QUIT", "RESET", "HELLO", "WATCH"};
  bool in_transaction = false;
  for (const auto& command : commands) {
    if (command.empty()) throw std::invalid_argument("empty Redis command");
    const std::string& name = command.front();
    for (auto r : refused)
      if (iequals(name, r))
        throw std::invalid_argument("Redis command " + name + " is not allowed on a shared connection");
    if (iequals(name, "MULTI")) in_transaction = true;
    else if (iequals(name, "EXEC") || iequals(name, "DISCARD")) in_transaction = false;
  }
  if (in_transaction) throw std::invalid_argument("MULTI must be closed by EXEC or DISCARD in the same pipeline()");
}

class Client final : public Redis {
 public:
  Client(asio::any_io_executor executor, RedisConfig config, metrics::Registry& registry)
      : executor_(std::move(executor)), config_(std::move(config)), metrics_(registry) {
    for (int i = 0; i < std::max(config_.connections, 1); ++i) {
      connections_.push_back(std::make_shared<CommandConnection>(executor_, config_, metrics_));
      connections_.back()->start();
    }
  }

  ~Client() override { close(); }

  asio::awaitable<Reply> command(Command args) override {
    std::vector<Command> one;
    one.push_back(std::move(args));
    check(one);
    auto replies = co_await execute(std::move(one));
    if (replies.front().is_error()) throw RedisError(replies.front().str);
    co_return std::move(replies.front());
  }

  asio::awaitable<std::vector<Reply>> pipeline(std::vector<Command> commands) override {
    check(commands);
    if (commands.empty()) co_return std::vector<Reply>();
    co_return co_await execute(std::move(commands));
  }

  asio::awaitable<Reply> eval(const Script& script, std::vector<std::string> keys,
                              std::vector<std::string> args) override {
    // Copied before the first suspension: `script` is a reference.
    const std::string sha = script.sha1();
    const std::string source = script.source();
    Command evalsha{"EVALSHA", sha, std::to_string(keys.size())};
    evalsha.insert(evalsha.end(), std::make_move_iterator(keys.begin()), std::make_move_iterator(keys.end()));
    evalsha.insert(evalsha.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));

    std::vector<Command> first{evalsha};
    auto replies = co_await execute(std::move(first));
    if (replies.front().is_error() && replies.front().str.starts_with("NOSCRIPT")) {
      // The server does not have it (restart, SCRIPT FLUSH, failover): load
      // it and run it again, in one round trip.
      std::vector<Command> retry{{"SCRIPT", "LOAD", source}, std::move(evalsha)};
      replies = co_await execute(std::move(retry));
      if (replies.front().is_error()) throw RedisError(replies.front().str);
      replies.erase(replies.begin());
    }
    if (replies.front().is_error()) throw RedisError(replies.front().str);
    co_return std::move(replies.front());
  }

  asio::awaitable<std::unique_ptr<Subscription>> subscribe(std::vector<std::string> channels) override {
    if (channels.empty()) throw std::invalid_argument("subscribe() needs at least one channel");
    auto link = std::make_shared<SubscriberLink>(executor_, config_, std::move(channels), metrics_);
    {
      std::lock_guard lock(subscribers_mutex_);
      if (closed_) throw RedisUnavailable("redis client is closed");
      std::erase_if(subscribers_, [](const auto& weak) { return weak.expired(); });
      subscribers_.push_back(link);
    }
    link->start();
    co_await link->wait_subscribed();
    co_return detail::make_subscription(std::move(link));
  }

  bool connected() const override {
    if (closed_) return false;
    return std::any_of(connections_.begin(), connections_.end(), [](const auto& c) { return c->ready(); });
  }

  void close() override {
    std::vector<std::shared_ptr<SubscriberLink>> subscribers;
    {
      std::lock_guard lock(subscribers_mutex_);
      if (closed_) return;
      closed_ = true;
      for (const auto& weak : subscribers_)
        if (auto link = weak.lock()) subscribers.push_back(std::move(link));
      subscribers_.clear();
    }
    for (const auto& c : connections_) c->stop();
    for (const auto& s : subscribers) s->stop();
  }

 private:
  // Round-robin over the connections that are up; none up fails fast.
  asio::awaitable<std::vector<Reply>> execute(std::vector<Command> commands) {
    const size_t n = connections_.size();
    const size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = 0; i < n && !closed_; ++i) {
      const auto& connection = connections_[(start + i) % n];
      if (connection->ready()) co_return co_await connection->execute(std::move(commands));
    }
    metrics_.unavailable.inc(static_cast<double>(commands.size()));
    throw RedisUnavailable(closed_ ? "redis client is closed" : "redis is not connected");
  }

  asio::any_io_executor executor_;
  RedisConfig config_;
  detail::RedisMetrics metrics_;
  std::vector<std::shared_ptr<CommandConnection>> connections_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> closed_{false};
  std::mutex subscribers_mutex_;
  std::vector<std::weak_ptr<SubscriberLink>> subscribers_;
};

}  // namespace

std::shared_ptr<Redis> make_redis_client(asio::any_io_executor executor, RedisConfig config,
                                         metrics::Registry& metrics) {
  return std::make_shared<Client>(std::move(executor), std::move(config), metrics);
}

}  // namespace huntaze::redis
