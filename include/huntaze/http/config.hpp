// The `server:` section of the configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "huntaze/core/config.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::http {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;     // 0 picks a free port (tests)
  int io_threads = 0;  // 0: one per core
  int max_connections = 10000;
  size_t header_limit = 16 * 1024;                  // request line + headers; beyond -> 431
  size_t body_limit = 1024 * 1024;                  // default per request; routes may override; beyond -> 413
  std::chrono::milliseconds header_timeout{10000};  // first byte to end of headers
  std::chrono::milliseconds body_timeout{30000};    // whole body
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds shutdown_grace{10000};
  bool access_log = true;
  CorsOptions cors;
};

ServerConfig parse_server_config(config::Node node);

}  // namespace huntaze::http
