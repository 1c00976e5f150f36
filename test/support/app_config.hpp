// The whole binary's configuration for tests that run an App in-process: on
// 127.0.0.1 with a free port, quiet logs, a short shutdown grace, the given
// database and Redis. Tests adjust the returned struct for what they check.
#pragma once

#include <chrono>
#include <string>

#include "app/app_config.hpp"
#include "support/harness.hpp"

namespace huntaze::test {

inline app::AppConfig app_config_for(const std::string& db_url, const redis::RedisConfig& redis) {
  using namespace std::chrono_literals;
  app::AppConfig c;
  c.server.host = "127.0.0.1";
  c.server.port = 0;
  c.server.io_threads = 2;
  c.server.access_log = false;
  c.server.shutdown_grace = 2s;
  c.database.url = Secret(db_url);
  c.database.pool_min = 1;
  c.database.pool_max = 4;
  c.redis = redis;
  c.log.level = log::Level::warn;
  c.compute.threads = 1;
  // Uploads and their derived files go to a directory of the test's own.
  c.media.storage.local_root = scratch_directory();
  c.media.storage.spool_dir = c.media.storage.local_root / ".spool";
  c.media.link_key = Secret("test-media-link-key-0123456789-abcdefghij");
  return c;
}

}  // namespace huntaze::test
