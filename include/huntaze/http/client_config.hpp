// Configuration of the outbound HTTP client (one shared client per process).
#pragma once

#include <string>
#include <vector>

#include "huntaze/core/config.hpp"

namespace huntaze::http {

struct HttpClientConfig {
  int max_connections = 256;      // open connections in total; more requests wait
  int max_host_connections = 32;  // per host and port; more requests wait
  std::string user_agent = "huntaze";
  // Hosts ("localhost", "ollama.internal"), addresses ("127.0.0.1") or CIDRs
  // ("10.1.0.0/16", "fd00::/8") that untrusted URLs may reach although private.
  std::vector<std::string> allow_private;
  std::string ca_file;  // PEM bundle to verify servers with; empty: the system's
};

// Reads the section's keys (it is not finish()ed here): max_connections,
// max_host_connections, user_agent, allow_private, ca_file. Throws
// config::ConfigError for a bad allow_private entry, an unreadable ca_file or a
// user_agent that is not one line.
HttpClientConfig parse_http_client_config(config::Node node);

}  // namespace huntaze::http
