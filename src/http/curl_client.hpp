// The HttpClient on libcurl's multi interface, driven by Asio.
//
// One multi handle per client holds the connection pool (keep-alive, HTTP/2
// multiplexing where the server offers it over TLS) and the DNS cache; every
// request is an easy handle added to it for the length of one transfer. curl's
// sockets are watched with posix::stream_descriptor and its timer with a
// steady_timer; every call into the multi handle runs on one strand, so curl
// is only ever entered from one thread at a time.
//
// Metrics: huntaze_http_client_requests_total{method,outcome},
// huntaze_http_client_seconds{outcome}, huntaze_http_client_in_flight,
// huntaze_http_client_connections_opened_total. outcome is 1xx..5xx or an
// HttpClientError kind.
//
// Only the composition root and tests name this.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "huntaze/core/metrics.hpp"
#include "huntaze/http/client.hpp"
#include "huntaze/http/client_config.hpp"

namespace huntaze::http {

// The client runs its I/O on `executor` (the process's io_context). Throws
// std::invalid_argument for a bad allow_private entry. The registry must
// outlive the client.
std::unique_ptr<HttpClient> make_curl_client(boost::asio::any_io_executor executor, HttpClientConfig config,
                                             metrics::Registry& metrics);

}  // namespace huntaze::http
