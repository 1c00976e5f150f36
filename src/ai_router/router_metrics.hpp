// The router's Prometheus metrics. Labels are bounded: task and alias names
// come from the configured routes (unknown names are refused before any
// metric), deployment names from the catalog, outcomes from fixed words.
// Never a workspace id.
#pragma once

#include "huntaze/core/metrics.hpp"

namespace huntaze::ai_router {

inline std::vector<double> overhead_buckets() {
  return {5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3};
}

struct RouterMetrics {
  explicit RouterMetrics(metrics::Registry& r)
      : requests(r.counter("huntaze_ai_requests_total", "AI requests by task and outcome", {"task", "outcome"})),
        upstream_calls(r.counter("huntaze_ai_upstream_calls_total", "Calls to model deployments by outcome",
                                 {"deployment", "outcome"})),
        tokens(r.counter("huntaze_ai_tokens_total", "Tokens used, by deployment and direction (in, out)",
                         {"deployment", "direction"})),
        cost_micros(r.counter("huntaze_ai_cost_microdollars_total", "Cost of model calls in micro-dollars",
                              {"deployment"})),
        retries(r.counter("huntaze_ai_retries_total", "Retries of a deployment call", {"deployment"})),
        fallbacks(r.counter("huntaze_ai_fallbacks_total", "Moves to the next alias of a route, by reason",
                            {"task", "reason"})),
        breaker_state(r.gauge("huntaze_ai_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open",
                              {"deployment"})),
        in_flight(r.gauge("huntaze_ai_in_flight", "Calls in flight per deployment", {"deployment"})),
        upstream_seconds(r.histogram("huntaze_ai_upstream_seconds", "Duration of deployment calls", {"deployment"})),
        ttft_seconds(r.histogram("huntaze_ai_time_to_first_token_seconds",
                                 "Time from the request to the first streamed piece", {"deployment"})),
        overhead_seconds(r.histogram("huntaze_ai_router_overhead_seconds",
                                     "Time spent in the router itself (request minus upstream calls and waits)", {},
                                     overhead_buckets())) {}

  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Counter>& upstream_calls;
  metrics::Family<metrics::Counter>& tokens;
  metrics::Family<metrics::Counter>& cost_micros;
  metrics::Family<metrics::Counter>& retries;
  metrics::Family<metrics::Counter>& fallbacks;
  metrics::Family<metrics::Gauge>& breaker_state;
  metrics::Family<metrics::Gauge>& in_flight;
  metrics::Family<metrics::Histogram>& upstream_seconds;
  metrics::Family<metrics::Histogram>& ttft_seconds;
  metrics::Family<metrics::Histogram>& overhead_seconds;
};

}  // namespace huntaze::ai_router
