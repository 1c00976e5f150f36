// The concrete PostgreSQL pool. Only the composition root (src/app) and tests
// name this type; modules see db::Database.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "huntaze/core/metrics.hpp"
#include "huntaze/db/config.hpp"
#include "huntaze/db/database.hpp"

namespace huntaze::db {

// Connections are opened lazily up to config.pool_max; start() opens
// config.pool_min in the background. Pool gauges are registered in `metrics`
// (db_pool_connections{state="idle|busy"}, db_pool_waiting, db_pool_max,
// db_acquire_timeouts_total, db_query_duration_seconds).
std::shared_ptr<Database> make_pg_pool(boost::asio::any_io_executor executor, DatabaseConfig config,
                                       metrics::Registry& metrics);

}  // namespace huntaze::db
