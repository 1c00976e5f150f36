#include "redis/message_queue.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace huntaze::redis::detail {

namespace asio = boost::asio;
using boost::system::error_code;

MessageQueue::MessageQueue(asio::any_io_executor io, metrics::Counter& dropped, size_t capacity)
    : io_(std::move(io)), dropped_(dropped), capacity_(capacity) {}

void MessageQueue::push(Message message) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (waiter_) {
    waiter_.complete(io_, error_code(), std::move(message));
    return;
  }
  messages_.push_back(std::move(message));
  if (messages_.size() > capacity_) {
    messages_.pop_front();
    dropped_.inc();
  }
}

void MessageQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  messages_.clear();
  if (waiter_) waiter_.complete(io_, error_code(asio::error::operation_aborted), Message());
}

// Emitted on the consumer's side; harmless once the pop has completed.
struct MessageQueue::Canceller {
  std::weak_ptr<MessageQueue> queue;
  uint64_t id;

  void operator()(asio::cancellation_type type) const {
    if (type == asio::cancellation_type::none) return;
    if (auto q = queue.lock()) q->cancel(id);
  }
};

asio::awaitable<Message> MessageQueue::pop(std::shared_ptr<MessageQueue> queue) {
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(error_code, Message)>(
      [&queue](auto handler) {
        uint64_t id;
        {
          std::lock_guard lock(queue->mutex_);
          id = ++queue->next_id_;
        }
        Waiter waiter(std::move(handler), queue->io_);
        if (auto slot = waiter.cancellation_slot(); slot.is_connected()) slot.emplace<Canceller>(queue, id);
        queue->start_pop(std::move(waiter), id);
      },
      asio::use_awaitable);
}

void MessageQueue::cancel(uint64_t id) {
  std::lock_guard lock(mutex_);
  if (waiter_ && waiter_id_ == id) waiter_.complete(io_, error_code(asio::error::operation_aborted), Message());
}

void MessageQueue::start_pop(Waiter waiter, uint64_t id) {
  std::lock_guard lock(mutex_);
  if (closed_) {
    waiter.complete(io_, error_code(asio::error::operation_aborted), Message());
  } else if (!messages_.empty()) {
    Message message = std::move(messages_.front());
    messages_.pop_front();
    waiter.complete(io_, error_code(), std::move(message));
  } else if (waiter_) {
    // One consumer per subscription: a second concurrent next() is refused.
    waiter.complete(io_, error_code(asio::error::already_started), Message());
  } else {
    waiter_ = std::move(waiter);
    waiter_id_ = id;
  }
}

}  // namespace huntaze::redis::detail
