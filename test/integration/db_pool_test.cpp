// The pool under load and under failure: limits, timeouts, transactions,
// server errors, lost connections and an unreachable server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <set>

#include "db_fixture.hpp"

using namespace huntaze;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::dbt::DbFixture;
using test::dbt::params;

namespace {

// Raises `max` to at least `value`.
void raise_to(std::atomic<int>& max, int value) {
  int seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

asio::awaitable<int64_t> worker(std::shared_ptr<db::Database> db, int64_t i, std::atomic<int>* max_size,
                                std::atomic<int>* max_backends) {
  auto p = params(i);
  int64_t got = 0;
  if (i % 4 == 0) {
    // Some work inside transactions, so connections are held across awaits.
    got = co_await db->transaction([&](db::Transaction& tx) -> asio::awaitable<int64_t> {
      auto q = params(i);
      auto res = co_await tx.query("SELECT $1::int8 * 2", std::move(q));
      co_return res.front().get<int64_t>(0) / 2;
    });
  } else {
    auto res = co_await db->query(
        "SELECT $1::int8, (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend')::int4, pg_sleep(0.002)::text",
        std::move(p));
    got = res.front().get<int64_t>(0);
    raise_to(*max_backends, res.front().get<int32_t>(1));
  }
  raise_to(*max_size, db->stats().size);
  co_return got;
}

// A TCP port that accepts connections but never speaks: a server that hangs.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

}  // namespace

TEST_CASE("db: 200 concurrent coroutines on 2 threads share a pool of 10", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) { c.pool_max = 10; });
  std::atomic<int> max_size{0}, max_backends{0};
  std::vector<std::future<int64_t>> results;
  for (int64_t i = 0; i < 200; ++i) results.push_back(f.io.spawn(worker(f.db, i, &max_size, &max_backends)));
  for (int64_t i = 0; i < 200; ++i) CHECK(results[static_cast<size_t>(i)].get() == i);

  CHECK(max_size.load() >= 1);
  CHECK(max_size.load() <= 10);
  CHECK(max_backends.load() <= 10);
  CHECK(test::dbt::backends(f.url) <= 10);
  const auto stats = f.db->stats();
  CHECK(stats.size <= 10);
  CHECK(stats.idle == stats.size);  // everything was given back
  CHECK(stats.waiting == 0);
  CHECK(stats.max == 10);
  CHECK(f.gauge("db_pool_connections", {"state"}, {"busy"}) == 0);
  CHECK(f.gauge("db_pool_connections", {"state"}, {"idle"}) == stats.idle);
  CHECK(f.gauge("db_pool_max") == 10);
  const auto text = f.registry.render();
  CHECK_THAT(text, Catch::Contains("db_query_duration_seconds_count"));
  CHECK_THAT(text, Catch::Contains("db_pool_waiting 0"));
}

TEST_CASE("db: an exhausted pool fails with DbUnavailable after acquire_timeout", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) {
    c.pool_max = 2;
    c.acquire_timeout = 200ms;
  });
  auto first = f.block(f.db->begin());
  auto second = f.block(f.db->begin());
  CHECK(f.db->stats().size == 2);
  CHECK_THROWS_AS(f.query("SELECT 1"), db::DbUnavailable);
  try {
    f.block(f.db->begin());
    FAIL("expected DbUnavailable");
  } catch (const db::DbUnavailable& e) {
    CHECK(e.status() == 503);
    CHECK(e.code() == "database_unavailable");
  }
  CHECK(f.registry.counter("db_acquire_timeouts_total", "").with({}).value() == 2);
  CHECK(f.db->stats().waiting == 0);
  // Once a transaction ends, its connection serves the next caller.
  f.block(first->rollback());
  CHECK(f.query("SELECT 42").front().get<int32_t>(0) == 42);
  f.block(second->commit());
  CHECK(f.db->stats().size <= 2);
}

TEST_CASE("db: waiters are served in arrival order", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) { c.pool_max = 1; });
  auto held = f.block(f.db->begin());
  std::mutex mutex;
  std::vector<int> order;
  auto waiter = [&](int n) -> asio::awaitable<int> {
    // Recorded while the connection is held: after a release the next waiter
    // may run on the other thread before this one records anything.
    auto tx = co_await f.db->begin();
    {
      std::lock_guard lock(mutex);
      order.push_back(n);
    }
    co_await tx->commit();
    co_return n;
  };
  std::vector<std::future<int>> waiting;
  for (int n = 0; n < 5; ++n) {
    waiting.push_back(f.io.spawn(waiter(n)));
    REQUIRE(test::eventually([&] { return f.db->stats().waiting == n + 1; }));
  }
  f.block(held->commit());
  for (auto& w : waiting) w.get();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("db: statement_timeout cancels a long statement with a query-canceled DbError", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) {
    c.pool_max = 1;
    c.statement_timeout = 200ms;
  });
  try {
    f.query("SELECT pg_sleep(5)");
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.is_query_canceled());
    CHECK(e.sqlstate() == "57014");
  }
  // The same (only) connection keeps working.
  CHECK(f.query("SELECT current_setting('statement_timeout')").front().get<std::string>(0) == "200ms");
  CHECK(f.db->stats().size == 1);
}

TEST_CASE("db: transactions commit, and roll back when the body throws", "[db]") {
  DbFixture f;
  f.block(f.db->execute_script("CREATE TABLE ledger (id int PRIMARY KEY, note text NOT NULL)"));
  auto count = [&](int id) {
    return f.query("SELECT count(*) FROM ledger WHERE id = $1", {id}).front().get<int64_t>(0);
  };

  // Committed.
  auto inserted = f.block(f.db->transaction([&](db::Transaction& tx) -> asio::awaitable<int64_t> {
    auto res = co_await tx.query("INSERT INTO ledger VALUES ($1, $2)", params(1, "kept"));
    co_await tx.query("INSERT INTO ledger VALUES ($1, $2)", params(2, "kept too"));
    co_return res.affected();
  }));
  CHECK(inserted == 1);
  CHECK(count(1) == 1);
  CHECK(count(2) == 1);

  // An exception in the body rolls back and reaches the caller.
  CHECK_THROWS_WITH(f.block(f.db->transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    co_await tx.query("INSERT INTO ledger VALUES ($1, $2)", params(3, "gone"));
    throw std::runtime_error("changed my mind");
  })),
                    "changed my mind");
  CHECK(count(3) == 0);

  // A failing statement inside rolls back the earlier ones too.
  CHECK_THROWS_AS(f.block(f.db->transaction([&](db::Transaction& tx) -> asio::awaitable<void> {
    co_await tx.query("INSERT INTO ledger VALUES ($1, $2)", params(4, "gone"));
    co_await tx.query("INSERT INTO ledger VALUES ($1, $2)", params(1, "duplicate"));
  })),
                  db::DbError);
  CHECK(count(4) == 0);

  // Explicit begin/commit/rollback.
  auto tx = f.block(f.db->begin());
  f.block(tx->query("INSERT INTO ledger VALUES ($1, $2)", {5, "explicit"}));
  f.block(tx->rollback());
  CHECK(count(5) == 0);
  CHECK_THROWS_AS(f.block(tx->commit()), std::logic_error);

  // Committing after a failed statement does not silently roll back.
  tx = f.block(f.db->begin());
  f.block(tx->query("INSERT INTO ledger VALUES ($1, $2)", {6, "doomed"}));
  CHECK_THROWS_AS(f.block(tx->query("SELECT 1/0")), db::DbError);
  try {
    f.block(tx->commit());
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.sqlstate() == "25P02");
  }
  CHECK(count(6) == 0);

  // A transaction dropped unfinished: its connection is discarded and the
  // server rolls back; the pool carries on.
  tx = f.block(f.db->begin());
  f.block(tx->query("INSERT INTO ledger VALUES ($1, $2)", {7, "abandoned"}));
  tx.reset();
  CHECK(count(7) == 0);
  CHECK(f.db->stats().size >= 1);
}

TEST_CASE("db: server errors carry their SQLSTATE", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) { c.pool_max = 1; });
  const auto backend = f.query("SELECT pg_backend_pid()").front().get<int32_t>(0);
  f.block(f.db->execute_script(
      "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (parent int REFERENCES parent (id));"));
  f.query("INSERT INTO parent VALUES ($1)", {1});
  try {
    f.query("INSERT INTO parent VALUES ($1)", {1});
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.is_unique_violation());
    CHECK_THAT(e.what(), Catch::Contains("duplicate key"));
  }
  try {
    f.query("INSERT INTO child VALUES ($1)", {2});
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.is_foreign_key_violation());
  }
  try {
    f.query("SELEC 1");
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.sqlstate() == "42601");
  }
  try {
    f.block(f.db->execute_script("SELECT 1; SELECT * FROM no_such_table; SELECT 2"));
    FAIL("expected DbError");
  } catch (const db::DbError& e) {
    CHECK(e.sqlstate() == "42P01");
  }
  // None of that cost a connection: the one connection is still the same.
  CHECK(f.query("SELECT pg_backend_pid()").front().get<int32_t>(0) == backend);
  CHECK(f.db->stats().size == 1);
}

TEST_CASE("db: after pg_terminate_backend the next queries use fresh connections", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) { c.pool_max = 4; });
  auto pid_of = [](std::shared_ptr<db::Database> db) -> asio::awaitable<int32_t> {
    auto res = co_await db->query("SELECT pg_backend_pid(), pg_sleep(0.05)::text");
    co_return res.front().get<int32_t>(0);
  };
  std::set<int32_t> before;
  {
    std::vector<std::future<int32_t>> pids;
    for (int i = 0; i < 4; ++i) pids.push_back(f.io.spawn(pid_of(f.db)));
    for (auto& p : pids) before.insert(p.get());
  }
  REQUIRE(f.db->stats().size >= 2);

  test::admin_exec(f.url,
                   "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  REQUIRE(test::eventually([&] { return test::dbt::backends(f.url) == 0; }));

  // Every idle connection is dead now; callers must not notice.
  std::vector<std::future<int32_t>> pids;
  for (int i = 0; i < 4; ++i) pids.push_back(f.io.spawn(pid_of(f.db)));
  for (auto& p : pids) CHECK_FALSE(before.contains(p.get()));
  auto tx = f.block(f.db->begin());
  f.block(tx->commit());
  CHECK(f.db->stats().size <= 4);
}

TEST_CASE("db: idle connections beyond pool_min are closed after idle_timeout", "[db]") {
  DbFixture f([](db::DatabaseConfig& c) {
    c.pool_min = 1;
    c.pool_max = 5;
    c.idle_timeout = 100ms;
  });
  auto slow = [](std::shared_ptr<db::Database> db) -> asio::awaitable<int> {
    co_await db->query("SELECT pg_sleep(0.05)");
    co_return db->stats().size;
  };
  std::vector<std::future<int>> running;
  for (int i = 0; i < 5; ++i) running.push_back(f.io.spawn(slow(f.db)));
  int grown = 0;
  for (auto& r : running) grown = std::max(grown, r.get());
  CHECK(grown > 1);
  REQUIRE(test::eventually([&] { return f.db->stats().size == 1; }));
  REQUIRE(test::eventually([&] { return test::dbt::backends(f.url) == 1; }));
  CHECK(f.query("SELECT 1").front().get<int32_t>(0) == 1);
}

TEST_CASE("db: an unreachable server fails fast with DbUnavailable", "[db]") {
  db::DatabaseConfig config = test::dbt::config_for("host=127.0.0.1 port=" + std::to_string(test::free_port()) +
                                                    " user=huntaze dbname=nowhere");
  // Long limits: if connection refusal were not noticed, this test would hang
  // here rather than pass.
  config.connect_timeout = 60s;
  config.acquire_timeout = 60s;
  metrics::Registry registry;
  test::dbt::IoThreads io(2);
  auto db = db::make_pg_pool(io.executor(), config, registry);
  CHECK_THROWS_AS(io.block(db->query("SELECT 1")), db::DbUnavailable);
  CHECK_THROWS_AS(io.block(db->begin()), db::DbUnavailable);
  CHECK_THROWS_AS(io.block(db->listener()), db::DbUnavailable);
  CHECK(db->stats().size == 0);
  db->close();
  CHECK_THROWS_WITH(io.block(db->query("SELECT 1")), Catch::Contains("closed"));
}

TEST_CASE("db: a server that accepts but never answers times out at connect_timeout", "[db]") {
  SilentServer server;
  db::DatabaseConfig config = test::dbt::config_for("host=127.0.0.1 port=" + std::to_string(server.port()) +
                                                    " user=huntaze dbname=nowhere sslmode=disable");
  config.pool_min = 0;
  config.connect_timeout = 300ms;
  metrics::Registry registry;
  test::dbt::IoThreads io(2);
  auto db = db::make_pg_pool(io.executor(), config, registry);
  CHECK_THROWS_WITH(io.block(db->query("SELECT 1")), Catch::Contains("300 ms"));
  db->close();
}
