#include "huntaze/redis/config.hpp"

namespace huntaze::redis {

RedisConfig parse_redis_config(config::Node node) {
  using std::chrono::milliseconds;
  using namespace std::chrono_literals;
  RedisConfig c;
  c.host = node.get_string("host", c.host);
  if (c.host.empty()) node.fail("host", "must not be empty");
  c.port = static_cast<int>(node.get_int("port", c.port, 1, 65535));
  c.password = node.get_secret("password");
  c.database = static_cast<int>(node.get_int("database", c.database, 0, 15));
  c.connections = static_cast<int>(node.get_int("connections", c.connections, 1, 64));
  c.connect_timeout = node.get_duration("connect_timeout", c.connect_timeout, 10ms, milliseconds(60'000));
  c.command_timeout = node.get_duration("command_timeout", c.command_timeout, 1ms, milliseconds(60'000));
  c.reconnect_min = node.get_duration("reconnect_min", c.reconnect_min, 1ms, milliseconds(60'000));
  c.reconnect_max = node.get_duration("reconnect_max", c.reconnect_max, 1ms, milliseconds(600'000));
  if (c.reconnect_min > c.reconnect_max) node.fail("reconnect_min", "must not exceed reconnect_max");
  return c;
}

}  // namespace huntaze::redis
