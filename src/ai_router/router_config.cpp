#include "ai_router/router_config.hpp"

namespace huntaze::ai_router {

using namespace std::chrono_literals;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::chrono::seconds RouterConfig::ttl_for(std::string_view task) const {
  auto it = cache_ttl.find(task);
  return it == cache_ttl.end() ? default_cache_ttl : it->second;
}

RouterConfig default_router_config() {
  RouterConfig c;
  c.cache_ttl = {{"generate", 1h}, {"creative", 1h}, {"classify", 24h}, {"reason", 24h}, {"vision", 24h * 7}};
  return c;
}

RouterConfig parse_router_config(config::Node ai) {
  RouterConfig c = default_router_config();
  c.retries = static_cast<int>(ai.get_int("retries", c.retries, 0, 10));
  c.backoff_base = ai.get_duration("backoff_base", c.backoff_base, 1ms, 60s);
  c.backoff_max = ai.get_duration("backoff_max", c.backoff_max, c.backoff_base, 10min);
  c.default_deadline = ai.get_duration("deadline", c.default_deadline, 100ms, 1h);

  auto breaker = ai.section("breaker");
  c.breaker.consecutive_failures =
      static_cast<int>(breaker.get_int("consecutive_failures", c.breaker.consecutive_failures, 1, 1000));
  c.breaker.failure_ratio = breaker.get_double("failure_ratio", c.breaker.failure_ratio, 0.01, 1.0);
  c.breaker.min_calls = static_cast<int>(breaker.get_int("min_calls", c.breaker.min_calls, 1, 100'000));
  c.breaker.window = breaker.get_duration("window", c.breaker.window, 1s, 1h);
  c.breaker.cooldown = breaker.get_duration("cooldown", c.breaker.cooldown, 100ms, 1h);
  c.breaker.half_open_probes = static_cast<int>(breaker.get_int("half_open_probes", c.breaker.half_open_probes, 1, 100));
  breaker.finish();

  auto cache = ai.section("cache");
  c.cache_enabled = cache.get_bool("enabled", c.cache_enabled);
  c.cache_lock_ttl = cache.get_duration("lock_ttl", c.cache_lock_ttl, 100ms, 10min);
  cache.finish();

  auto ttl = ai.section("cache_ttl");
  for (const auto& task : ttl.keys()) {
    const auto fallback = duration_cast<milliseconds>(c.ttl_for(task));
    const auto value = duration_cast<seconds>(ttl.get_duration(task, fallback, 1s, 24h * 365));
    if (task == "default")
      c.default_cache_ttl = value;
    else
      c.cache_ttl[task] = value;
  }

  auto limits = ai.section("limits");
  c.max_messages = static_cast<int>(limits.get_int("max_messages", c.max_messages, 1, 10'000));
  c.max_request_bytes = limits.get_size("max_request_bytes", c.max_request_bytes, 1024, 64 << 20);
  c.max_images = static_cast<int>(limits.get_int("max_images", c.max_images, 0, 64));
  limits.finish();
  return c;
}

}  // namespace huntaze::ai_router
