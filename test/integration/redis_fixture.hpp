// Shared by the redis_*_test.cpp files: a client on background I/O threads,
// so a test can mix coroutine calls (io.block(...)) with blocking steps such
// as stopping a redis-server or test::eventually().
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "huntaze/core/metrics.hpp"
#include "huntaze/redis/redis.hpp"
#include "redis/redis_client.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"

namespace huntaze::test {


// Keys no other test (or parallel run) uses.
inline std::string unique_key(std::string_view what) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  return "test:" + std::string(what) + ":" + std::to_string(::getpid()) + ":" + std::to_string(counter++) + ":" +
         std::to_string(rd());
}

// A connected client on two I/O threads. Members are destroyed in reverse:
// the client closes, the threads drain, then the registry goes.
struct RedisFixture {
  explicit RedisFixture(redis::RedisConfig config = shared_redis_config()) {
    redis = redis::make_redis_client(io.executor(), std::move(config), registry);
    REQUIRE(eventually([&] { return redis->connected(); }));
  }
  ~RedisFixture() {
    redis->close();
    redis.reset();
  }

  // Any failure counts as "not yet": for polling across restarts.
  bool answers() {
    try {
      return io.block(redis->command({"PING"})).str == "PONG";
    } catch (const std::exception&) {
      return false;
    }
  }

  double commands(std::string_view outcome) {
    return registry.counter("redis_commands_total", "", {"outcome"}).with({outcome}).value();
  }
  double counter(const std::string& name) { return registry.counter(name, "").with({}).value(); }
  double gauge(const std::string& name) { return registry.gauge(name, "").with({}).value(); }

  metrics::Registry registry;
  IoThreads io{2};
  std::shared_ptr<redis::Redis> redis;
};

}  // namespace huntaze::test
