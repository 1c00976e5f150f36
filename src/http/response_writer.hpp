// Serializes our Response into HTTP/1.1 wire format: one header block that
// is written together with the body in a single gather write. Hand-written
// because Beast's generic serializer cost more CPU per request than the rest
// of the request path combined (see docs/benchmarks.md).
#pragma once

#include <string>

#include "huntaze/http/message.hpp"

namespace huntaze::http {

struct WireOptions {
  bool keep_alive = true;
  bool http10 = false;      // the request was HTTP/1.0: keep-alive must be explicit
  bool head = false;        // HEAD: announce the length, send no body
  bool chunked = false;     // streamed body follows as chunks
};

// The status line and headers, ending with the blank line. The server owns
// framing: handler-set Content-Length, Transfer-Encoding and Connection are
// replaced, and header lines containing CR or LF are dropped (no response
// splitting through a handler that echoes input).
std::string serialize_head(const Response& res, const WireOptions& options);

// True for statuses that never carry a body (1xx, 204, 304).
bool status_has_no_body(int status);

}  // namespace huntaze::http
