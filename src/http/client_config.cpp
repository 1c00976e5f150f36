#include "huntaze/http/client_config.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "http/ssrf_guard.hpp"

namespace huntaze::http {

HttpClientConfig parse_http_client_config(config::Node node) {
  HttpClientConfig c;
  c.max_connections = static_cast<int>(node.get_int("max_connections", c.max_connections, 1, 100'000));
  c.max_host_connections = static_cast<int>(node.get_int("max_host_connections", c.max_host_connections, 1, 100'000));
  c.user_agent = node.get_string("user_agent", c.user_agent);
  // Sent as a header line: CR or LF would end it early, a NUL cut it short.
  if (c.user_agent.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    node.fail("user_agent", "must be one line (no CR, LF or NUL)");
  c.allow_private = node.get_strings("allow_private", c.allow_private);
  try {
    ssrf::AllowList check(c.allow_private);
  } catch (const std::invalid_argument& e) {
    node.fail("allow_private", e.what());
  }
  c.ca_file = node.get_string("ca_file", c.ca_file);
  if (!c.ca_file.empty() && ::access(c.ca_file.c_str(), R_OK) != 0)
    node.fail("ca_file", "'" + c.ca_file + "' cannot be read");
  return c;
}

}  // namespace huntaze::http
