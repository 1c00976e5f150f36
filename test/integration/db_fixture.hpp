// Shared by the db_*_test.cpp files: a pool on its own fresh database, served
// by background I/O threads, so a test can mix coroutine calls
// (f.block(...)) with blocking steps such as admin statements and
// test::eventually().
#pragma once


#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "db/pg_pool.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/db/config.hpp"
#include "huntaze/db/database.hpp"
#include "support/harness.hpp"
#include "support/io_threads.hpp"

namespace huntaze::test::dbt {

using namespace std::chrono_literals;

// GCC 12 cannot compile a braced list inside a co_await expression ("array
// used as initializer"), so coroutine code builds its Params with this.
template <class... A>
db::Params params(A&&... args) {
  db::Params p;
  p.reserve(sizeof...(A));
  (p.emplace_back(std::forward<A>(args)), ...);
  return p;
}

inline db::DatabaseConfig config_for(const std::string& url) {
  db::DatabaseConfig c;
  c.url = Secret(url);
  c.pool_min = 1;
  c.pool_max = 10;
  c.connect_timeout = 5s;
  c.acquire_timeout = 10s;
  c.statement_timeout = 30s;
  return c;
}

using test::admin_scalar;

// Backends connected to the test database, other than the one asking.
inline int backends(const std::string& url, const std::string& extra_condition = "true") {
  return std::stoi(admin_scalar(url,
                                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid() AND " +
                                    extra_condition));
}

using test::IoThreads;


// A pool on a fresh database, on two I/O threads. Members are destroyed in
// reverse: the pool closes, the threads drain, then the registry goes.
struct DbFixture {
  explicit DbFixture(const std::function<void(db::DatabaseConfig&)>& adjust = {})
      : url(fresh_database_url()), config(config_for(url)) {
    if (adjust) adjust(config);
    db = db::make_pg_pool(io.executor(), config, registry);
  }
  ~DbFixture() {
    if (db) db->close();
    db.reset();
  }
  DbFixture(const DbFixture&) = delete;
  DbFixture& operator=(const DbFixture&) = delete;

  template <class T>
  T block(asio::awaitable<T> work) {
    return io.block(std::move(work));
  }
  db::Result query(const std::string& sql, db::Params p = {}) { return block(db->query(sql, std::move(p))); }

  double gauge(const std::string& name, std::vector<std::string> labels = {}, std::vector<std::string> values = {}) {
    return registry.gauge(name, "", std::move(labels)).with(values).value();
  }

  std::string url;
  db::DatabaseConfig config;
  metrics::Registry registry;
  IoThreads io{2};
  std::shared_ptr<db::Database> db;
};

}  // namespace huntaze::test::dbt
