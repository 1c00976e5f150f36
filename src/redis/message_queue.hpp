// The buffer between a subscriber connection and the coroutine calling
// Subscription::next(): unbounded growth would let one slow consumer eat the
// process's memory, so past `capacity` the oldest message is dropped and
// counted.
//
// Thread-safety: push() and close() from any thread; one pop() at a time.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "huntaze/core/metrics.hpp"
#include "huntaze/redis/redis.hpp"
#include "redis/completion.hpp"

namespace huntaze::redis::detail {

class MessageQueue {
 public:
  static constexpr size_t default_capacity = 10'000;

  MessageQueue(boost::asio::any_io_executor io, metrics::Counter& dropped, size_t capacity = default_capacity);

  void push(Message message);
  // Ends the queue: a pending pop() and every later one throw
  // boost::system::system_error(operation_aborted).
  void close();
  // The oldest message, waiting for one if need be. Holds `queue` while it
  // waits. Supports per-operation cancellation (`next() || timer`): a
  // cancelled pop throws operation_aborted and loses no message.
  static boost::asio::awaitable<Message> pop(std::shared_ptr<MessageQueue> queue);

 private:
  using Waiter = Completion<void(boost::system::error_code, Message)>;
  struct Canceller;
  void start_pop(Waiter waiter, uint64_t id);
  void cancel(uint64_t id);

  boost::asio::any_io_executor io_;
  metrics::Counter& dropped_;
  const size_t capacity_;
  std::mutex mutex_;
  std::deque<Message> messages_;  // empty whenever waiter_ is set
  Waiter waiter_;
  uint64_t waiter_id_ = 0;
  uint64_t next_id_ = 0;
  bool closed_ = false;
};

}  // namespace huntaze::redis::detail
