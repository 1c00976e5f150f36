// Pub/sub on a connection of its own. The first attempt is reported to
// subscribe() (a Redis that is down fails it fast); after that the link
// reconnects with backoff and re-subscribes to every channel, and messages
// flow into a bounded MessageQueue that Subscription::next() reads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "huntaze/redis/redis.hpp"
#include "redis/completion.hpp"
#include "redis/link.hpp"
#include "redis/message_queue.hpp"
#include "redis/metrics.hpp"

namespace huntaze::redis::detail {

class SubscriberLink final : public Link {
 public:
  SubscriberLink(asio::any_io_executor executor, RedisConfig config, std::vector<std::string> channels,
                 const RedisMetrics& metrics);

  // Completes once Redis confirmed every channel; throws RedisUnavailable if
  // the first attempt fails or the link is stopped first.
  asio::awaitable<void> wait_subscribed();
  const std::shared_ptr<MessageQueue>& queue() const noexcept { return queue_; }

 private:
  using Waiter = Completion<void(std::exception_ptr)>;
  enum class First { pending, subscribed, failed };

  void start_wait(Waiter waiter);
  void finish_first(First state, const char* why);
  static void on_message(struct redisAsyncContext* ac, void* reply, void* privdata);

  void on_session_start() override;
  void on_ready(bool reconnected) override;
  bool retry_first_attempt() override;
  void on_stopped() override;

  std::vector<std::string> channels_;  // distinct: Redis confirms each argument once
  std::shared_ptr<MessageQueue> queue_;
  // Strand-only.
  size_t confirmed_ = 0;
  First first_ = First::pending;
  Waiter first_waiter_;
};

// The public handle: close() (or destruction) ends the queue and the link.
std::unique_ptr<Subscription> make_subscription(std::shared_ptr<SubscriberLink> link);

}  // namespace huntaze::redis::detail
