// How the router behaves (the `ai:` section besides deployments and routes).
//
//   ai:
//     retries: 2              # per alias, on 408/409/429/5xx/timeouts
//     backoff_base: 250ms
//     backoff_max: 4s
//     deadline: 30s           # default for requests that do not set one
//     breaker: {consecutive_failures: 5, failure_ratio: 0.5, min_calls: 20, window: 60s, cooldown: 30s}
//     cache: {enabled: true, lock_ttl: 15s}
//     cache_ttl: {generate: 1h, creative: 1h, classify: 24h, reason: 24h, vision: 7d, default: 1h}
//     limits: {max_messages: 256, max_request_bytes: 1MiB, max_images: 4}
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "ai_router/circuit_breaker.hpp"
#include "huntaze/core/config.hpp"

namespace huntaze::ai_router {

struct RouterConfig {
  int retries = 2;
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{4000};
  std::chrono::milliseconds default_deadline{30'000};
  BreakerConfig breaker;
  bool cache_enabled = true;
  std::chrono::milliseconds cache_lock_ttl{15'000};
  std::map<std::string, std::chrono::seconds, std::less<>> cache_ttl;  // by task
  std::chrono::seconds default_cache_ttl{3600};
  int max_messages = 256;
  size_t max_request_bytes = 1 << 20;  // all message text and image URLs together
  int max_images = 4;

  std::chrono::seconds ttl_for(std::string_view task) const;
};

// The product's defaults: suggestions 1 h, daily insights (reason) 24 h,
// weekly work (vision analyses are stable) 7 d.
RouterConfig default_router_config();
// Reads the keys above from the `ai` section (which parse_catalog also reads).
RouterConfig parse_router_config(config::Node ai);

}  // namespace huntaze::ai_router
