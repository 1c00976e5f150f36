// The `redis:` section of the configuration.
#pragma once

#include <chrono>
#include <string>

#include "huntaze/core/config.hpp"
#include "huntaze/core/secret.hpp"

namespace huntaze::redis {

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  Secret password;  // AUTH when set
  int database = 0;  // SELECT index
  // Multiplexed command connections; each pipelines every caller's commands.
  int connections = 2;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
};

RedisConfig parse_redis_config(config::Node node);

}  // namespace huntaze::redis
