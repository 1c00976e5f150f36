// Failure and recovery against a private redis-server that the tests stop,
// start and pause (never the shared one).
#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <future>

#include "redis_fixture.hpp"

using namespace huntaze;
namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST_CASE("redis: while Redis is down calls fail with RedisUnavailable and the client recovers", "[redis]") {
  test::RedisProcess server;
  test::RedisFixture f(server.config());
  const auto key = test::unique_key("restart");
  f.io.block(f.redis->command({"SET", key, "v"}));
  REQUIRE(test::eventually([&] { return f.gauge("redis_connected") == 2; }));

  server.stop();
  REQUIRE(test::eventually([&] { return !f.redis->connected(); }));
  REQUIRE(test::eventually([&] { return f.gauge("redis_connected") == 0; }));
  REQUIRE_THROWS_AS(f.io.block(f.redis->command({"GET", key})), redis::RedisUnavailable);
  REQUIRE_THROWS_AS(f.io.block(f.redis->pipeline({{"GET", key}, {"GET", key}})), redis::RedisUnavailable);
  REQUIRE_THROWS_AS(f.io.block(f.redis->eval(redis::Script("return 1"), {}, {})), redis::RedisUnavailable);
  // A subscription cannot start either, and says so instead of hanging.
  REQUIRE_THROWS_AS(f.io.block(f.redis->subscribe({key})), redis::RedisUnavailable);
  REQUIRE(f.commands("unavailable") >= 4);

  server.start();
  REQUIRE(test::eventually([&] { return f.redis->connected(); }));
  REQUIRE(test::eventually([&] { return f.answers(); }));
  REQUIRE(f.io.block(f.redis->command({"GET", key})).is_nil());  // a fresh server without persistence
  f.io.block(f.redis->command({"SET", key, "again"}));
  REQUIRE(f.io.block(f.redis->command({"GET", key})).str == "again");
  REQUIRE(test::eventually([&] { return f.gauge("redis_connected") == 2; }));
  REQUIRE(f.counter("redis_reconnects_total") >= 1);
}

TEST_CASE("redis: a subscription re-subscribes after a restart", "[redis]") {
  test::RedisProcess server;
  test::RedisFixture f(server.config());
  const auto channel = test::unique_key("channel");
  auto sub = f.io.block(f.redis->subscribe({channel}));
  f.io.block(f.redis->command({"PUBLISH", channel, "before"}));
  REQUIRE(f.io.block(sub->next()).payload == "before");

  server.stop();
  REQUIRE(test::eventually([&] { return !f.redis->connected(); }));
  server.start();

  // The subscriber comes back on its own schedule: wait until Redis counts it.
  auto subscribers = [&]() -> int64_t {
    try {
      return f.io.block(f.redis->command({"PUBSUB", "NUMSUB", channel})).elements.at(1).integer;
    } catch (const std::exception&) {
      return -1;
    }
  };
  REQUIRE(test::eventually([&] { return subscribers() == 1; }));
  f.io.block(f.redis->command({"PUBLISH", channel, "after"}));
  auto message = f.io.block(sub->next());
  REQUIRE(message.channel == channel);
  REQUIRE(message.payload == "after");
}

TEST_CASE("redis: a command without an answer within command_timeout fails and the client recovers", "[redis]") {
  test::RedisProcess server;
  auto config = server.config();
  config.command_timeout = 200ms;
  test::RedisFixture f(config);
  auto admin = redis::make_redis_client(f.io.executor(), server.config(), f.registry);
  REQUIRE(test::eventually([&] { return admin->connected(); }));

  // Redis holds every client's commands for two seconds.
  f.io.block(admin->command({"CLIENT", "PAUSE", "2000"}));
  std::vector<std::future<redis::Reply>> stuck;
  for (int i = 0; i < 20; ++i)
    stuck.push_back(asio::co_spawn(f.io.executor(), f.redis->command({"PING"}), asio::use_future));
  for (auto& s : stuck) REQUIRE_THROWS_AS(s.get(), redis::RedisUnavailable);
  REQUIRE(f.commands("timeout") >= 1);

  // Once the pause is over the late replies are ignored and new calls work.
  REQUIRE(test::eventually([&] { return f.answers(); }));
  const auto key = test::unique_key("after-timeout");
  f.io.block(f.redis->command({"SET", key, "v"}));
  REQUIRE(f.io.block(f.redis->command({"GET", key})).str == "v");
  admin->close();
}

TEST_CASE("redis: close() fails pending calls with RedisUnavailable", "[redis]") {
  test::RedisProcess server;
  auto config = server.config();
  config.command_timeout = 10s;  // the close, not the timeout, must end the call
  test::RedisFixture f(config);
  auto admin = redis::make_redis_client(f.io.executor(), server.config(), f.registry);
  REQUIRE(test::eventually([&] { return admin->connected(); }));

  // A call that Redis holds on to: BLPOP on an empty list, without a timeout.
  auto pending =
      asio::co_spawn(f.io.executor(), f.redis->command({"BLPOP", test::unique_key("empty"), "0"}), asio::use_future);
  REQUIRE(test::eventually([&] {
    auto info = f.io.block(admin->command({"INFO", "clients"})).str;
    return info.find("blocked_clients:1") != std::string::npos;
  }));
  f.redis->close();
  REQUIRE_THROWS_AS(pending.get(), redis::RedisUnavailable);
  REQUIRE_FALSE(f.redis->connected());
  REQUIRE_THROWS_AS(f.io.block(f.redis->command({"PING"})), redis::RedisUnavailable);
  admin->close();
}

TEST_CASE("redis: a cancelled call ends at once and its late reply is ignored", "[redis]") {
  test::RedisProcess server;
  auto config = server.config();
  config.connections = 1;
  config.command_timeout = 10s;  // the cancellation, not the timeout, must end the call
  test::RedisFixture f(config);
  auto admin = redis::make_redis_client(f.io.executor(), server.config(), f.registry);
  REQUIRE(test::eventually([&] { return admin->connected(); }));

  // BLPOP with a one-second timeout: Redis answers (nil) well after we give up.
  asio::cancellation_signal cancel;
  auto pending = asio::co_spawn(f.io.executor(), f.redis->command({"BLPOP", test::unique_key("empty"), "1"}),
                                asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  REQUIRE(test::eventually([&] {
    auto info = f.io.block(admin->command({"INFO", "clients"})).str;
    return info.find("blocked_clients:1") != std::string::npos;
  }));
  asio::post(f.io.executor(), [&] { cancel.emit(asio::cancellation_type::terminal); });
  try {
    pending.get();
    FAIL("a cancelled call returned");
  } catch (const boost::system::system_error& e) {
    REQUIRE(e.code() == asio::error::operation_aborted);
  }
  // The same connection goes on: the next reply is the next command's, not
  // the cancelled BLPOP's nil.
  const auto key = test::unique_key("after-cancel");
  f.io.block(f.redis->command({"SET", key, "v"}));
  REQUIRE(f.io.block(f.redis->command({"GET", key})).str == "v");
  admin->close();
}

TEST_CASE("redis: AUTH and SELECT are sent on connect and a host name is resolved", "[redis]") {
  test::RedisProcess server;
  {
    test::RedisFixture plain(server.config());
    plain.io.block(plain.redis->command({"CONFIG", "SET", "requirepass", "s3cret"}));
  }
  auto config = server.config();
  config.host = "localhost";
  config.password = Secret("s3cret");
  config.database = 3;
  test::RedisFixture db3(config);
  const auto key = test::unique_key("db3");
  db3.io.block(db3.redis->command({"SET", key, "in three"}));
  REQUIRE(db3.io.block(db3.redis->command({"GET", key})).str == "in three");

  auto db0_config = config;
  db0_config.database = 0;
  test::RedisFixture db0(db0_config);
  REQUIRE(db0.io.block(db0.redis->command({"GET", key})).is_nil());

  // A wrong password never makes a usable connection.
  auto wrong = config;
  wrong.password = Secret("not it");
  auto rejected = redis::make_redis_client(db0.io.executor(), wrong, db0.registry);
  REQUIRE(test::eventually([&] {
    auto stats = db0.io.block(db0.redis->command({"INFO", "stats"})).str;
    return stats.find("acl_access_denied_auth:0") == std::string::npos;
  }));
  REQUIRE_FALSE(rejected->connected());
  REQUIRE_THROWS_AS(db0.io.block(rejected->command({"PING"})), redis::RedisUnavailable);
  rejected->close();
}
