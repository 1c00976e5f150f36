#include "huntaze/jobs/config.hpp"

namespace huntaze::jobs {

RetryPolicy KindPolicyOverride::apply(RetryPolicy policy) const {
  if (max_attempts) policy.max_attempts = *max_attempts;
  if (backoff_base) policy.backoff_base = *backoff_base;
  if (backoff_max) policy.backoff_max = *backoff_max;
  if (timeout) policy.timeout = *timeout;
  return policy;
}

int JobsConfig::concurrency(const std::string& queue) const {
  if (auto it = queues.find(queue); it != queues.end()) return it->second;
  auto it = queues.find("default");
  return it == queues.end() ? 16 : it->second;
}

JobsConfig parse_jobs_config(config::Node node) {
  using std::chrono::milliseconds;
  using namespace std::chrono_literals;
  constexpr milliseconds day = std::chrono::hours(24);
  JobsConfig c;
  c.workers = node.get_bool("workers", c.workers);
  auto queues = node.section("queues");
  // The built-in queues first, so that every one of them is read (and shown
  // by check-config) whether or not the file lists it.
  std::vector<std::string> names;
  for (const auto& [name, limit] : c.queues) names.push_back(name);
  for (const auto& name : queues.keys())
    if (!c.queues.contains(name)) names.push_back(name);
  for (const auto& name : names) {
    int fallback = c.queues.contains(name) ? c.queues[name] : 16;
    c.queues[name] = static_cast<int>(queues.get_int(name, fallback, 1, 10000));
  }
  c.prefetch = static_cast<int>(node.get_int("prefetch", c.prefetch, 0, 1000));
  c.poll_interval = node.get_duration("poll_interval", c.poll_interval, 10ms, milliseconds(3'600'000));
  c.heartbeat_interval = node.get_duration("heartbeat_interval", c.heartbeat_interval, 10ms, milliseconds(600'000));
  c.rescue_after = node.get_duration("rescue_after", c.rescue_after, 50ms, day);
  if (c.rescue_after < 2 * c.heartbeat_interval)
    node.fail("rescue_after", "must be at least twice heartbeat_interval, or live workers would be rescued");
  c.completion_batch = static_cast<int>(node.get_int("completion_batch", c.completion_batch, 1, 10000));
  c.completion_delay = node.get_duration("completion_delay", c.completion_delay, 0ms, 1000ms);
  c.errors_kept = static_cast<int>(node.get_int("errors_kept", c.errors_kept, 1, 100));
  c.keep_completed = node.get_duration("keep_completed", c.keep_completed, 0ms, 365 * day);
  c.keep_discarded = node.get_duration("keep_discarded", c.keep_discarded, 0ms, 365 * day);
  c.prune_batch = static_cast<int>(node.get_int("prune_batch", c.prune_batch, 10, 100000));
  c.admin_api = node.get_bool("admin_api", c.admin_api);
  auto kinds = node.section("kinds");
  for (const auto& kind : kinds.keys()) {
    auto k = kinds.section(kind);
    KindPolicyOverride o;
    if (k.has("max_attempts")) o.max_attempts = static_cast<int>(k.get_int("max_attempts", 1, 1, 1000));
    if (k.has("backoff_base")) o.backoff_base = k.get_duration("backoff_base", 1s, 0ms, day);
    if (k.has("backoff_max")) o.backoff_max = k.get_duration("backoff_max", 1h, 0ms, 7 * day);
    if (k.has("timeout")) o.timeout = k.get_duration("timeout", 15min, 1ms, day);
    k.finish();
    c.kinds[kind] = o;
  }
  return c;
}

}  // namespace huntaze::jobs
