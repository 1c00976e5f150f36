#include "redis/metrics.hpp"

namespace huntaze::redis::detail {

namespace {

metrics::Counter& outcome(metrics::Registry& registry, std::string_view which) {
  return registry.counter("redis_commands_total", "Redis commands by outcome", {"outcome"}).with({which});
}

}  // namespace

RedisMetrics::RedisMetrics(metrics::Registry& registry)
    : connected(registry.gauge("redis_connected", "Live Redis command connections").with({})),
      ok(outcome(registry, "ok")),
      error(outcome(registry, "error")),
      unavailable(outcome(registry, "unavailable")),
      timeout(outcome(registry, "timeout")),
      reconnects(registry.counter("redis_reconnects_total", "Redis connections re-established after being lost")
                     .with({})),
      duration(registry.histogram("redis_command_duration_seconds", "Redis round-trip latency", {}).with({})),
      pubsub_dropped(registry
                         .counter("redis_pubsub_dropped_messages_total",
                                  "Pub/sub messages dropped because a subscriber fell too far behind")
                         .with({})) {}

}  // namespace huntaze::redis::detail
