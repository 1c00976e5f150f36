// The concrete hiredis-based client. Only the composition root (src/app) and
// tests name this type; modules see redis::Redis.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "huntaze/core/metrics.hpp"
#include "huntaze/redis/config.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::redis {

// Starts connecting at once, in the background; calls made before the first
// connection is up fail fast with RedisUnavailable. Registers
// redis_connected (gauge), redis_commands_total{outcome}, redis_reconnects_total
// and redis_command_duration_seconds in `metrics`.
std::shared_ptr<Redis> make_redis_client(boost::asio::any_io_executor executor, RedisConfig config,
                                         metrics::Registry& metrics);

}  // namespace huntaze::redis
