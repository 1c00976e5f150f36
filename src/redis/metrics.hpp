// The Redis client's Prometheus metrics, registered once per client.
#pragma once

#include "huntaze/core/metrics.hpp"

namespace huntaze::redis::detail {

// References into the registry, which outlives every client: cheap to copy,
// and each connection keeps its own copy.
struct RedisMetrics {
  explicit RedisMetrics(metrics::Registry& registry);

  metrics::Gauge& connected;  // live command connections
  // redis_commands_total by outcome: one per Redis command (a pipeline of n counts n).
  metrics::Counter& ok;
  metrics::Counter& error;
  metrics::Counter& unavailable;
  metrics::Counter& timeout;
  metrics::Counter& reconnects;
  metrics::Histogram& duration;  // one observation per round trip (command, pipeline or eval step)
  metrics::Counter& pubsub_dropped;
};

}  // namespace huntaze::redis::detail
