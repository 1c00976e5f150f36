// The operations endpoints: /healthz, /readyz and /metrics.
#pragma once

#include <chrono>

#include "huntaze/core/metrics.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/redis/redis.hpp"

namespace huntaze::app {

struct OpsDependencies {
  db::Database& database;
  redis::Redis& redis;
  metrics::Registry& metrics;
  std::chrono::milliseconds readiness_timeout;
  bool metrics_enabled = true;
};

// GET /healthz: the process is up (no dependency is consulted).
// GET /readyz: PostgreSQL and Redis both answer within the readiness timeout;
//   otherwise 503 not_ready naming what is down.
// GET /metrics: Prometheus text exposition (when metrics are enabled).
// The dependencies must outlive the router.
void register_ops_routes(http::Router& router, OpsDependencies deps);

}  // namespace huntaze::app
