#include "huntaze/http/config.hpp"

namespace huntaze::http {

ServerConfig parse_server_config(config::Node node) {
  using std::chrono::milliseconds;
  using namespace std::chrono_literals;
  ServerConfig c;
  c.host = node.get_string("host", c.host);
  c.port = static_cast<int>(node.get_int("port", c.port, 0, 65535));
  c.io_threads = static_cast<int>(node.get_int("io_threads", c.io_threads, 0, 256));
  c.max_connections = static_cast<int>(node.get_int("max_connections", c.max_connections, 1, 1'000'000));
  c.header_limit = node.get_size("header_limit", c.header_limit, 1024, 1 << 20);
  // Bodies are held in memory; large uploads stream through their own routes.
  c.body_limit = node.get_size("body_limit", c.body_limit, 0, 256ull << 20);
  c.header_timeout = node.get_duration("header_timeout", c.header_timeout, 10ms, milliseconds(3'600'000));
  c.body_timeout = node.get_duration("body_timeout", c.body_timeout, 10ms, milliseconds(3'600'000));
  c.idle_timeout = node.get_duration("idle_timeout", c.idle_timeout, 10ms, milliseconds(3'600'000));
  c.write_timeout = node.get_duration("write_timeout", c.write_timeout, 10ms, milliseconds(3'600'000));
  c.shutdown_grace = node.get_duration("shutdown_grace", c.shutdown_grace, 0ms, milliseconds(3'600'000));
  c.access_log = node.get_bool("access_log", c.access_log);
  auto cors = node.section("cors");
  c.cors.allowed_origins = cors.get_strings("origins", {});
  for (const auto& o : c.cors.allowed_origins)
    if (o != "*" && o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      cors.fail("origins", "'" + o + "' is not an origin (scheme://host[:port]) or *");
  c.cors.allow_credentials = cors.get_bool("allow_credentials", c.cors.allow_credentials);
  c.cors.max_age_seconds = static_cast<int>(cors.get_int("max_age_seconds", c.cors.max_age_seconds, 0, 86400));
  return c;
}

}  // namespace huntaze::http
