#include "huntaze/db/config.hpp"

namespace huntaze::db {

DatabaseConfig parse_database_config(config::Node node) {
  using std::chrono::milliseconds;
  using namespace std::chrono_literals;
  DatabaseConfig c;
  c.url = node.get_secret("url", c.url.reveal());
  c.pool_min = static_cast<int>(node.get_int("pool_min", c.pool_min, 0, 1000));
  c.pool_max = static_cast<int>(node.get_int("pool_max", c.pool_max, 1, 1000));
  if (c.pool_min > c.pool_max) node.fail("pool_min", "must not exceed pool_max (" + std::to_string(c.pool_max) + ")");
  c.connect_timeout = node.get_duration("connect_timeout", c.connect_timeout, 100ms, milliseconds(600'000));
  c.acquire_timeout = node.get_duration("acquire_timeout", c.acquire_timeout, 1ms, milliseconds(600'000));
  c.statement_timeout = node.get_duration("statement_timeout", c.statement_timeout, 0ms, milliseconds(86'400'000));
  c.idle_timeout = node.get_duration("idle_timeout", c.idle_timeout, 1000ms, milliseconds(86'400'000));
  c.migrate_on_start = node.get_bool("migrate_on_start", c.migrate_on_start);
  return c;
}

}  // namespace huntaze::db
