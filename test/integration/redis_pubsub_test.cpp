// Pub/sub on its own connection: delivery order, several channels, close().
#include <catch2/catch.hpp>

#include <boost/system/system_error.hpp>

#include <future>

#include "redis_fixture.hpp"

using namespace huntaze;
namespace asio = boost::asio;

TEST_CASE("redis: a subscription receives 100 messages in the order they were published", "[redis]") {
  test::RedisFixture f;
  const auto channel = test::unique_key("channel");
  auto sub = f.io.block(f.redis->subscribe({channel}));

  std::vector<redis::Command> publishes;
  for (int i = 0; i < 100; ++i)
    publishes.push_back({"PUBLISH", channel, "message " + std::to_string(i) + std::string("\0\r\n", 3)});
  auto receivers = f.io.block(f.redis->pipeline(publishes));
  REQUIRE(receivers.front().integer == 1);  // our subscription, confirmed before subscribe() returned

  for (int i = 0; i < 100; ++i) {
    auto message = f.io.block(sub->next());
    REQUIRE(message.channel == channel);
    REQUIRE(message.payload == "message " + std::to_string(i) + std::string("\0\r\n", 3));
  }
  sub->close();
}

TEST_CASE("redis: one subscription covers several channels", "[redis]") {
  test::RedisFixture f;
  const auto a = test::unique_key("channel-a");
  const auto b = test::unique_key("channel-b");
  auto sub = f.io.block(f.redis->subscribe({a, b, a}));
  f.io.block(f.redis->command({"PUBLISH", b, "to b"}));
  f.io.block(f.redis->command({"PUBLISH", a, "to a"}));
  auto first = f.io.block(sub->next());
  auto second = f.io.block(sub->next());
  REQUIRE(first.channel == b);
  REQUIRE(first.payload == "to b");
  REQUIRE(second.channel == a);
  REQUIRE(second.payload == "to a");
}

TEST_CASE("redis: closing a subscription makes a pending next() throw operation_aborted", "[redis]") {
  test::RedisFixture f;
  auto sub = f.io.block(f.redis->subscribe({test::unique_key("channel")}));
  auto pending = asio::co_spawn(f.io.executor(), sub->next(), asio::use_future);
  sub->close();
  try {
    pending.get();
    FAIL("next() returned after close()");
  } catch (const boost::system::system_error& e) {
    REQUIRE(e.code() == asio::error::operation_aborted);
  }
  REQUIRE_THROWS_AS(f.io.block(sub->next()), boost::system::system_error);
}

TEST_CASE("redis: closing the client ends its subscriptions", "[redis]") {
  test::RedisFixture f;
  auto sub = f.io.block(f.redis->subscribe({test::unique_key("channel")}));
  auto pending = asio::co_spawn(f.io.executor(), sub->next(), asio::use_future);
  f.redis->close();
  REQUIRE_THROWS_AS(pending.get(), boost::system::system_error);
  REQUIRE_THROWS_AS(f.io.block(f.redis->subscribe({"any"})), redis::RedisUnavailable);
}
