#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include "redis/message_queue.hpp"

using namespace huntaze;
using redis::Message;
using redis::detail::MessageQueue;
namespace asio = boost::asio;

namespace {

Message numbered(int i) { return Message{"ch", std::to_string(i)}; }

Message pop(asio::io_context& ioc, const std::shared_ptr<MessageQueue>& queue) {
  auto f = asio::co_spawn(ioc, MessageQueue::pop(queue), asio::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

}  // namespace

TEST_CASE("redis: a subscriber that falls behind loses the oldest messages and counts them", "[redis]") {
  asio::io_context ioc;
  metrics::Counter dropped;
  auto queue = std::make_shared<MessageQueue>(ioc.get_executor(), dropped, 100);
  for (int i = 0; i < 105; ++i) queue->push(numbered(i));
  REQUIRE(dropped.value() == 5);
  for (int i = 5; i < 105; ++i) REQUIRE(pop(ioc, queue).payload == std::to_string(i));
}

TEST_CASE("redis: a pending pop gets the next message pushed", "[redis]") {
  asio::io_context ioc;
  metrics::Counter dropped;
  auto queue = std::make_shared<MessageQueue>(ioc.get_executor(), dropped);
  auto f = asio::co_spawn(ioc, MessageQueue::pop(queue), asio::use_future);
  ioc.poll();  // the pop is now waiting
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  queue->push(numbered(7));
  ioc.run();
  REQUIRE(f.get().payload == "7");
}

TEST_CASE("redis: closing the queue aborts a pending pop and every later one", "[redis]") {
  asio::io_context ioc;
  metrics::Counter dropped;
  auto queue = std::make_shared<MessageQueue>(ioc.get_executor(), dropped);
  auto f = asio::co_spawn(ioc, MessageQueue::pop(queue), asio::use_future);
  ioc.poll();
  queue->close();
  ioc.run();
  try {
    f.get();
    FAIL("pop() returned after close()");
  } catch (const boost::system::system_error& e) {
    REQUIRE(e.code() == asio::error::operation_aborted);
  }
  REQUIRE_THROWS_AS(pop(ioc, queue), boost::system::system_error);
}

TEST_CASE("redis: a cancelled pop throws operation_aborted and loses no message", "[redis]") {
  asio::io_context ioc;
  metrics::Counter dropped;
  auto queue = std::make_shared<MessageQueue>(ioc.get_executor(), dropped);
  asio::cancellation_signal cancel;
  auto f = asio::co_spawn(ioc, MessageQueue::pop(queue), asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  ioc.poll();
  cancel.emit(asio::cancellation_type::terminal);
  ioc.run();
  try {
    f.get();
    FAIL("a cancelled pop returned");
  } catch (const boost::system::system_error& e) {
    REQUIRE(e.code() == asio::error::operation_aborted);
  }
  queue->push(numbered(1));
  REQUIRE(pop(ioc, queue).payload == "1");
}
