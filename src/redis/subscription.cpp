#include "redis/subscription.hpp"

#include <hiredis/async.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <string_view>

#include "huntaze/core/log.hpp"
#include "redis/reply.hpp"

namespace huntaze::redis::detail {

namespace {

std::vector<std::string> distinct(std::vector<std::string> channels) {
  std::sort(channels.begin(), channels.end());
  channels.erase(std::unique(channels.begin(), channels.end()), channels.end());
  return channels;
}

std::string_view text(const redisReply* r) { return {r->str, r->len}; }

class SubscriptionImpl final : public Subscription {
 public:
  explicit SubscriptionImpl(std::shared_ptr<SubscriberLink> link) : link_(std::move(link)), queue_(link_->queue()) {}
  ~SubscriptionImpl() override { close(); }

  asio::awaitable<Message> next() override { return MessageQueue::pop(queue_); }

  void close() override {
    queue_->close();
    link_->stop();
  }

 private:
  std::shared_ptr<SubscriberLink> link_;
  std::shared_ptr<MessageQueue> queue_;
};

}  // namespace

SubscriberLink::SubscriberLink(asio::any_io_executor executor, RedisConfig config, std::vector<std::string> channels,
                               const RedisMetrics& metrics)
    : Link(executor, std::move(config), "subscriber"),
      channels_(distinct(std::move(channels))),
      queue_(std::make_shared<MessageQueue>(executor, metrics.pubsub_dropped)) {}

asio::awaitable<void> SubscriberLink::wait_subscribed() {
  // A named initiation: GCC 12 destroys a lambda temporary with non-trivial
  // captures twice when it appears inside a co_await expression.
  auto initiation = [self = std::static_pointer_cast<SubscriberLink>(shared_from_this())](auto handler) {
    Waiter waiter(std::move(handler), self->strand().get_inner_executor());
    asio::post(self->strand(), [self, waiter = std::move(waiter)]() mutable { self->start_wait(std::move(waiter)); });
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(std::move(initiation),
                                                                                          asio::use_awaitable);
}

void SubscriberLink::start_wait(Waiter waiter) {
  first_waiter_ = std::move(waiter);
  if (first_ == First::subscribed) finish_first(First::subscribed, nullptr);
  else if (first_ == First::failed) finish_first(First::failed, "redis subscribe failed");
}

void SubscriberLink::finish_first(First state, const char* why) {
  first_ = state;
  if (!first_waiter_) return;
  std::exception_ptr error;
  if (state == First::failed) error = std::make_exception_ptr(RedisUnavailable(why));
  first_waiter_.complete(strand().get_inner_executor(), error);
}

void SubscriberLink::on_session_start() {
  // On every (re)connect: a new context starts with no subscriptions.
  confirmed_ = 0;
  Command command{"SUBSCRIBE"};
  command.insert(command.end(), channels_.begin(), channels_.end());
  Argv argv(command);
  // In subscribed mode hiredis routes every message of these channels (and
  // the confirmations) to this one callback.
  if (redisAsyncCommandArgv(handshaking_context(), &SubscriberLink::on_message, nullptr, argv.argc(), argv.argv(),
                            argv.lengths()) != REDIS_OK)
    drop("cannot queue SUBSCRIBE");
}

void SubscriberLink::on_message(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<SubscriberLink*>(Link::from(ac));
  const auto* r = static_cast<const redisReply*>(reply);
  // NULL: the context is going away (once per channel).
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING) return;
  const std::string_view kind = text(r->element[0]);
  if (kind == "message" && r->element[1]->type == REDIS_REPLY_STRING &&
      r->element[2]->type == REDIS_REPLY_STRING) {
    self->queue_->push(Message{std::string(text(r->element[1])), std::string(text(r->element[2]))});
  } else if (kind == "subscribe") {
    if (++self->confirmed_ == self->channels_.size()) self->mark_ready();
  }
}

void SubscriberLink::on_ready(bool reconnected) {
  if (reconnected) log::info("redis re-subscribed", {{"channels", static_cast<int64_t>(channels_.size())}});
  finish_first(First::subscribed, nullptr);
}

bool SubscriberLink::retry_first_attempt() {
  finish_first(First::failed, "redis is not reachable for subscribe");
  return false;
}

void SubscriberLink::on_stopped() {
  queue_->close();
  if (first_ == First::pending) finish_first(First::failed, "redis subscription closed");
}

std::unique_ptr<Subscription> make_subscription(std::shared_ptr<SubscriberLink> link) {
  return std::make_unique<SubscriptionImpl>(std::move(link));
}

}  // namespace huntaze::redis::detail
