// The request pipeline: an ordered list of middleware around the router.
//
// A middleware receives the request and `next` (the rest of the chain) and
// returns a response; it may act before, after, or instead of calling next.
// The standard chain built by the composition root, outermost first:
//
//   request_id -> observe (access log + metrics) -> security_headers -> cors -> errors -> router
//
// Thread-safety: middleware objects are immutable once built and called
// concurrently from every I/O thread.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "huntaze/core/metrics.hpp"
#include "huntaze/http/message.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::http {

using Next = std::function<asio::awaitable<Response>(Request&)>;
using Middleware = std::function<asio::awaitable<Response>(Request&, const Next&)>;

// Composes middleware (outermost first) around the router into one handler.
Handler build_pipeline(std::vector<Middleware> chain, const Router& router);

// Keeps a sane incoming X-Request-Id (1-128 of [A-Za-z0-9._:-]) or makes one;
// echoes it on the response. Also keeps an incoming W3C traceparent for logs.
Middleware request_id();

struct ObserveOptions {
  bool access_log = true;
};
// One JSON access-log line per request, and the HTTP metrics:
// http_requests_total{route,method,status}, http_request_duration_seconds{route,method},
// http_requests_in_flight.
Middleware observe(metrics::Registry& registry, ObserveOptions options = {});

// nosniff, frame denial, no referrer, a locked-down CSP for a JSON API, and
// Cache-Control: no-store unless the handler chose a policy.
Middleware security_headers();

struct CorsOptions {
  std::vector<std::string> allowed_origins;  // exact origins, or "*"
  bool allow_credentials = false;
  std::vector<std::string> allowed_headers = {"authorization", "content-type", "idempotency-key", "x-request-id",
                                              "x-csrf-token"};
  int max_age_seconds = 600;
};
// Answers preflights and adds Access-Control-* headers for allowed origins.
Middleware cors(CorsOptions options);

// Maps ApiError to its JSON body and any other exception to a logged 500
// internal_error. No exception ever leaves the pipeline.
Middleware errors();

}  // namespace huntaze::http
