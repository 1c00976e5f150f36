// Access log and HTTP metrics for every request that reaches the pipeline.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "http/labels.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::http {

namespace {

struct ObserveState {
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& duration;
  metrics::Gauge& in_flight;
  ObserveOptions options;
};

struct InFlight {
  explicit InFlight(metrics::Gauge& g) : gauge(g) { gauge.inc(); }
  ~InFlight() { gauge.dec(); }
  metrics::Gauge& gauge;
};

asio::awaitable<Response> observed(std::shared_ptr<ObserveState> st, Request& req, const Next& next) {
  InFlight guard(st->in_flight);
  Response res = co_await next(req);
  const auto elapsed = std::chrono::steady_clock::now() - req.received_at;
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const auto method = detail::method_label(req.method);
  const auto status = std::to_string(res.status);
  st->requests.with({req.route, method, status}).inc();
  st->duration.with({req.route, method}).observe(seconds);
  if (st->options.access_log) {
    auto traceparent = req.headers.get("traceparent");
    log::info("request", {{"request_id", req.request_id},
                          {"method", method},
                          {"path", req.path},
                          {"route", req.route},
                          {"status", res.status},
                          {"ms", seconds * 1000.0},
                          {"bytes_in", static_cast<uint64_t>(req.body.size())},
                          {"bytes_out", static_cast<uint64_t>(res.body.size())},
                          {"remote", req.remote_address},
                          {"traceparent", traceparent && traceparent->size() <= 128 ? *traceparent : ""}});
  }
  co_return res;
}

}  // namespace

Middleware observe(metrics::Registry& registry, ObserveOptions options) {
  auto st = std::make_shared<ObserveState>(
      ObserveState{registry.counter("http_requests_total", "HTTP requests answered", {"route", "method", "status"}),
                   registry.histogram("http_request_duration_seconds",
                                      "Time from request headers read to response ready", {"route", "method"}),
                   registry.gauge("http_requests_in_flight", "Requests being handled").with({}), options});
  return [st](Request& req, const Next& next) { return observed(st, req, next); };
}

}  // namespace huntaze::http
