// The `database:` section of the configuration.
#pragma once

#include <chrono>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::db {

struct DatabaseConfig {
  // libpq connection string or URI; a secret because it may hold a password.
  Secret url{"postgresql://huntaze@127.0.0.1:5432/huntaze"};
  int pool_min = 2;
  int pool_max = 16;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds acquire_timeout{2000};
  std::chrono::milliseconds statement_timeout{30000};
  // Connections idle longer than this are closed (down to pool_min).
  std::chrono::milliseconds idle_timeout{300000};
  bool migrate_on_start = true;
};

DatabaseConfig parse_database_config(config::Node node);

}  // namespace huntaze::db
