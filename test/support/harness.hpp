// Shared helpers for the test suites.
//
// Integration tests talk to the real PostgreSQL and Redis that scripts/test
// starts; it passes them in HUNTAZE_TEST_PG_URL (an admin connection string),
// HUNTAZE_TEST_TEMPLATE (a migrated template database) and
// HUNTAZE_TEST_REDIS_PORT. A missing variable fails the test: integration
// tests never skip silently.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "huntaze/redis/config.hpp"

namespace huntaze::test {

namespace asio = boost::asio;

// Runs `make(executor)` as a coroutine on a fresh io_context served by
// `threads` threads until the context runs out of work; returns its value or
// rethrows its exception. Anything the coroutine spawned must finish too.
template <class T>
T run(std::function<asio::awaitable<T>()> make, int threads = 1) {
  asio::io_context ioc(threads);
  std::optional<T> value;
  std::exception_ptr failure;
  asio::co_spawn(ioc, make(), [&](std::exception_ptr e, T v) {
    if (e)
      failure = e;
    else
      value.emplace(std::move(v));
  });
  std::vector<std::thread> extra;
  for (int i = 1; i < threads; ++i) extra.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : extra) t.join();
  if (failure) std::rethrow_exception(failure);
  return std::move(*value);
}

inline void run_void(std::function<asio::awaitable<void>()> make, int threads = 1) {
  run<int>(
      [make]() -> asio::awaitable<int> {
        co_await make();
        co_return 0;
      },
      threads);
}

// A required environment variable; throws (failing the test) when unset.
std::string require_env(const char* name);

// A new database cloned from the migrated template; returns its libpq URL.
// Each test gets its own, so tests can run in parallel.
std::string fresh_database_url();
// A database with no migrations applied.
std::string empty_database_url();
// A new database cloned from `templ`.
std::string new_database_url(const std::string& templ);
// Drops every database the functions above made in this process (each is
// ~10 MB; a full run makes hundreds). Called after each test case by the
// listener in catch_main.cpp, when the test's servers are gone; failures are
// printed, not thrown. A crashed test leaves its databases for scripts/test.
void drop_created_databases();
// A new empty directory under the system's temporary directory, removed
// with everything in it when the test case ends (the same listener).
std::string scratch_directory();
void remove_scratch_directories();
// Runs one statement as the admin user against database `url` (synchronous
// libpq; test set-up only).
void admin_exec(const std::string& url, const std::string& sql);
// The same, returning the first column of the first row as text ("" for NULL
// or no rows).
std::string admin_scalar(const std::string& url, const std::string& sql);

// The shared Redis from scripts/test. Tests that stop Redis start their own
// RedisProcess instead.
redis::RedisConfig shared_redis_config();

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int free_port();

// A private redis-server on a free port, for tests that stop and restart it.
class RedisProcess {
 public:
  RedisProcess();
  ~RedisProcess();
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  void start();  // blocks until it answers PING
  void stop();   // SIGTERM and wait
  int port() const { return port_; }
  redis::RedisConfig config() const;

 private:
  int port_;
  int pid_ = -1;
  std::string dir_;
};

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace huntaze::test
