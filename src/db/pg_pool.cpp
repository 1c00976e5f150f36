// db::Database over the pool: statements on a leased connection, transactions
// holding one lease from BEGIN to COMMIT/ROLLBACK, and LISTEN connections.
#include "pg_pool.hpp"

#include <stdexcept>

#include "listener.hpp"
#include "pool_core.hpp"

namespace huntaze::db {

namespace pg {
namespace {

// Times one round trip for db_query_duration_seconds, failures included.
class QueryTimer {
 public:
  explicit QueryTimer(PoolCore& pool) : pool_(pool), start_(std::chrono::steady_clock::now()) {}
  ~QueryTimer() { pool_.observe_query(std::chrono::steady_clock::now() - start_); }
  QueryTimer(const QueryTimer&) = delete;
  QueryTimer& operator=(const QueryTimer&) = delete;

 private:
  PoolCore& pool_;
  std::chrono::steady_clock::time_point start_;
};

class PgTransaction final : public Transaction {
 public:
  PgTransaction(std::shared_ptr<PoolCore> pool, Lease lease) : pool_(std::move(pool)), lease_(std::move(lease)) {}
  // An unfinished transaction's Lease finds the connection still inside a
  // transaction block and discards it; the server then rolls back.
  ~PgTransaction() override = default;

  asio::awaitable<Result> query(std::string_view sql, Params params) override {
    Connection& conn = active();
    QueryTimer timer(*pool_);
    co_return co_await conn.query(sql, std::move(params));
  }

  asio::awaitable<void> execute_script(std::string_view sql) override {
    Connection& conn = active();
    QueryTimer timer(*pool_);
    co_await conn.simple(sql);
  }

  asio::awaitable<void> commit() override {
    // The connection goes back to the pool when this returns or throws.
    Lease lease = finish();
    QueryTimer timer(*pool_);
    if (lease->transaction_failed()) {
      // COMMIT would quietly roll back; make the outcome impossible to miss.
      co_await lease->simple("ROLLBACK");
      throw DbError("transaction rolled back: a statement in it had failed", "25P02");
    }
    co_await lease->simple("COMMIT");
  }

  asio::awaitable<void> rollback() override {
    Lease lease = finish();
    QueryTimer timer(*pool_);
    co_await lease->simple("ROLLBACK");
  }

 private:
  Connection& active() {
    if (!lease_) throw std::logic_error("the transaction was already committed or rolled back");
    return *lease_;
  }
  Lease finish() {
    active();
    return std::move(lease_);
  }

  std::shared_ptr<PoolCore> pool_;
  Lease lease_;
};

class PgDatabase final : public Database {
 public:
  explicit PgDatabase(std::shared_ptr<PoolCore> pool) : pool_(std::move(pool)) {}
  ~PgDatabase() override { pool_->close(); }

  asio::awaitable<Result> query(std::string_view sql, Params params) override {
    Lease lease = co_await pool_->acquire();
    QueryTimer timer(*pool_);
    co_return co_await lease->query(sql, std::move(params));
  }

  asio::awaitable<void> execute_script(std::string_view sql) override {
    Lease lease = co_await pool_->acquire();
    QueryTimer timer(*pool_);
    co_await lease->simple(sql);
  }

  asio::awaitable<std::unique_ptr<Transaction>> begin() override {
    Lease lease = co_await pool_->acquire();
    {
      QueryTimer timer(*pool_);
      co_await lease->simple("BEGIN");
    }
    co_return std::make_unique<PgTransaction>(pool_, std::move(lease));
  }

  asio::awaitable<std::unique_ptr<Listener>> listener() override {
    OpenedListener opened = co_await open_listener(pool_->executor(), pool_->connect_options());
    pool_->on_close([control = opened.control] {
      if (auto c = control.lock()) c->close();
    });
    co_return std::move(opened.listener);
  }

  PoolStats stats() const override { return pool_->stats(); }
  void close() override { pool_->close(); }

 private:
  std::shared_ptr<PoolCore> pool_;
};

}  // namespace
}  // namespace pg

std::shared_ptr<Database> make_pg_pool(boost::asio::any_io_executor executor, DatabaseConfig config,
                                       metrics::Registry& metrics) {
  auto pool = std::make_shared<pg::PoolCore>(std::move(executor), std::move(config), metrics);
  pool->start();
  return std::make_shared<pg::PgDatabase>(std::move(pool));
}

}  // namespace huntaze::db
