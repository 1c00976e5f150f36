// Commands, replies, pipelines, concurrency and scripts, against the shared
// test Redis (scripts against a private one: they flush the script cache).
#include <catch2/catch.hpp>

#include <future>

#include "redis_fixture.hpp"

using namespace huntaze;
namespace asio = boost::asio;
using redis::Reply;

namespace {

std::string binary_value(size_t size) {
  std::string value(size, '\0');
  for (size_t i = 0; i < size; ++i) value[i] = static_cast<char>((i * 131 + i / 256) % 256);
  // Make sure the bytes the protocol cares about are in there.
  value.replace(size / 2, 5, std::string("\0\r\n\r\n", 5));
  return value;
}

}  // namespace

TEST_CASE("redis: binary keys and values round-trip through SET and GET", "[redis]") {
  test::RedisFixture f;
  const std::string key = test::unique_key("binary") + std::string("\0\r\nkey", 6);
  const std::string small("a\0b\r\nc\r\n", 8);
  auto set = f.io.block(f.redis->command({"SET", key, small, "PX", "60000"}));
  REQUIRE(set.type == Reply::Type::status);
  REQUIRE(set.str == "OK");
  auto got = f.io.block(f.redis->command({"GET", key}));
  REQUIRE(got.type == Reply::Type::string);
  REQUIRE(got.str == small);

  const std::string big = binary_value(1 << 20);
  f.io.block(f.redis->command({"SET", key, big, "PX", "60000"}));
  REQUIRE(f.io.block(f.redis->command({"STRLEN", key})).integer == (1 << 20));
  got = f.io.block(f.redis->command({"GET", key}));
  REQUIRE(got.str.size() == big.size());
  REQUIRE(got.str == big);
  REQUIRE(f.io.block(f.redis->command({"DEL", key})).integer == 1);
}

TEST_CASE("redis: integer array nil and status replies", "[redis]") {
  test::RedisFixture f;
  const auto counter = test::unique_key("counter");
  const auto list = test::unique_key("list");

  auto n = f.io.block(f.redis->command({"INCRBY", counter, "41"}));
  REQUIRE(n.type == Reply::Type::integer);
  REQUIRE(n.integer == 41);
  REQUIRE(f.io.block(f.redis->command({"INCR", counter})).integer == 42);
  REQUIRE(f.io.block(f.redis->command({"DECRBY", counter, "100"})).integer == -58);

  f.io.block(f.redis->command({"RPUSH", list, "a", "", "c"}));
  auto items = f.io.block(f.redis->command({"LRANGE", list, "0", "-1"}));
  REQUIRE(items.type == Reply::Type::array);
  REQUIRE(items.elements.size() == 3);
  REQUIRE(items.elements[0].str == "a");
  REQUIRE(items.elements[1].type == Reply::Type::string);
  REQUIRE(items.elements[1].str.empty());
  REQUIRE(items.elements[2].str == "c");

  auto empty = f.io.block(f.redis->command({"LRANGE", test::unique_key("none"), "0", "-1"}));
  REQUIRE(empty.type == Reply::Type::array);
  REQUIRE(empty.elements.empty());

  auto missing = f.io.block(f.redis->command({"GET", test::unique_key("missing")}));
  REQUIRE(missing.is_nil());

  auto pong = f.io.block(f.redis->command({"PING"}));
  REQUIRE(pong.type == Reply::Type::status);
  REQUIRE(pong.str == "PONG");

  f.io.block(f.redis->command({"DEL", counter, list}));
}

TEST_CASE("redis: an error reply throws RedisError with the server's message", "[redis]") {
  test::RedisFixture f;
  const auto key = test::unique_key("wrongtype");
  f.io.block(f.redis->command({"SET", key, "text", "PX", "60000"}));
  std::string message;
  try {
    f.io.block(f.redis->command({"LPUSH", key, "x"}));
  } catch (const redis::RedisError& e) {
    message = e.what();
  }
  REQUIRE(message.starts_with("WRONGTYPE"));
  // The connection is still fine afterwards.
  REQUIRE(f.io.block(f.redis->command({"GET", key})).str == "text");
  REQUIRE(f.commands("error") >= 1);
  // A misuse that would break the shared connection is refused up front.
  REQUIRE_THROWS_AS(f.io.block(f.redis->command({"SELECT", "1"})), std::invalid_argument);
  REQUIRE_THROWS_AS(f.io.block(f.redis->command({})), std::invalid_argument);
  REQUIRE_THROWS_AS(f.io.block(f.redis->command({"MULTI"})), std::invalid_argument);
  REQUIRE_THROWS_AS(f.io.block(f.redis->pipeline({{"MULTI"}, {"INCR", key}})), std::invalid_argument);
}

TEST_CASE("redis: a pipeline of 1000 commands returns its replies in order with errors in place", "[redis]") {
  test::RedisFixture f;
  const auto counter = test::unique_key("pipeline");
  const auto text = test::unique_key("pipeline-text");
  f.io.block(f.redis->command({"SET", text, "x", "PX", "60000"}));

  std::vector<redis::Command> commands;
  for (int i = 0; i < 1000; ++i) {
    if (i == 500) commands.push_back({"LPUSH", text, "boom"});  // an error in the middle
    else commands.push_back({"INCR", counter});
  }
  auto replies = f.io.block(f.redis->pipeline(commands));
  REQUIRE(replies.size() == 1000);
  int64_t expected = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (i == 500) {
      REQUIRE(replies[i].is_error());
      REQUIRE(replies[i].str.starts_with("WRONGTYPE"));
    } else {
      REQUIRE(replies[i].type == Reply::Type::integer);
      REQUIRE(replies[i].integer == ++expected);
    }
  }
  REQUIRE(f.io.block(f.redis->pipeline({})).empty());

  // MULTI ... EXEC is fine inside one pipeline: it is sent back to back.
  auto tx = f.io.block(f.redis->pipeline({{"MULTI"}, {"INCR", counter}, {"INCR", counter}, {"EXEC"}}));
  REQUIRE(tx.size() == 4);
  REQUIRE(tx[3].type == Reply::Type::array);
  REQUIRE(tx[3].elements.at(1).integer == 1001);
  f.io.block(f.redis->command({"DEL", counter, text}));
}

namespace {

asio::awaitable<bool> round_trip(std::shared_ptr<redis::Redis> redis, std::string prefix, std::string counter, int i) {
  const std::string key = prefix + ":" + std::to_string(i);
  const std::string value = "value-" + std::to_string(i) + std::string("\0\r\n", 3);
  // Commands are built outside co_await: GCC 12 miscompiles string literals
  // in a braced list inside a co_await expression.
  redis::Command set{"SET", key, value, "PX", "60000"};
  redis::Command get{"GET", key};
  redis::Command incr{"INCR", counter};
  redis::Command del{"DEL", key};
  co_await redis->command(std::move(set));
  auto got = co_await redis->command(std::move(get));
  co_await redis->command(std::move(incr));
  co_await redis->command(std::move(del));
  co_return got.str == value;
}

}  // namespace

TEST_CASE("redis: 500 concurrent coroutines on two I/O threads each get their own replies", "[redis]") {
  test::RedisFixture f;
  const auto prefix = test::unique_key("concurrent");
  const auto counter = prefix + ":count";
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 500; ++i)
    results.push_back(asio::co_spawn(f.io.executor(), round_trip(f.redis, prefix, counter, i), asio::use_future));
  for (auto& r : results) REQUIRE(r.get());
  REQUIRE(f.io.block(f.redis->command({"GET", counter})).str == "500");
  REQUIRE(f.commands("ok") >= 2000);
  f.io.block(f.redis->command({"DEL", counter}));
}

TEST_CASE("redis: eval runs scripts by SHA and reloads them after SCRIPT FLUSH", "[redis]") {
  // A private server: SCRIPT FLUSH must not race with other tests' scripts,
  // and on a fresh server the first call really meets NOSCRIPT.
  test::RedisProcess server;
  test::RedisFixture f(server.config());
  const auto key = test::unique_key("script");
  const redis::Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");

  REQUIRE(f.io.block(f.redis->eval(add, {key}, {"5"})).integer == 5);
  auto exists = f.io.block(f.redis->command({"SCRIPT", "EXISTS", add.sha1()}));
  REQUIRE(exists.elements.at(0).integer == 1);
  REQUIRE(f.io.block(f.redis->eval(add, {key}, {"5"})).integer == 10);

  f.io.block(f.redis->command({"SCRIPT", "FLUSH"}));
  REQUIRE(f.io.block(f.redis->eval(add, {key}, {"5"})).integer == 15);

  const redis::Script shapes("return {1, {2, 'x'}, false, redis.status_reply('FINE')}");
  auto r = f.io.block(f.redis->eval(shapes, {}, {}));
  REQUIRE(r.type == Reply::Type::array);
  REQUIRE(r.elements.size() == 4);
  REQUIRE(r.elements[0].integer == 1);
  REQUIRE(r.elements[1].elements.at(1).str == "x");
  REQUIRE(r.elements[2].is_nil());
  REQUIRE(r.elements[3].type == Reply::Type::status);

  const redis::Script failing("return redis.call('LPUSH', KEYS[1], 'x')");
  REQUIRE_THROWS_AS(f.io.block(f.redis->eval(failing, {key}, {})), redis::RedisError);
  f.io.block(f.redis->command({"DEL", key}));
}
