// The `jobs:` section of the configuration.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "huntaze/core/config.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

// A per-kind override of the retry policy registered in code.
struct KindPolicyOverride {
  std::optional<int> max_attempts;
  std::optional<std::chrono::milliseconds> backoff_base;
  std::optional<std::chrono::milliseconds> backoff_max;
  std::optional<std::chrono::milliseconds> timeout;

  RetryPolicy apply(RetryPolicy policy) const;
};

struct JobsConfig {
  // Run workers in this process. Enqueueing works either way.
  bool workers = true;
  // Concurrent jobs per queue in this process. Queues not listed get `default`'s.
  std::map<std::string, int> queues{{"default", 16}, {"ai", 64}, {"media", 2}, {"media_low", 1}};
  // Jobs claimed beyond the free slots, so a slot freed finds work waiting.
  int prefetch = 4;
  // How often an idle worker looks for work when no notification arrived.
  std::chrono::milliseconds poll_interval{1000};
  // How often this process proves it is alive...
  std::chrono::milliseconds heartbeat_interval{5000};
  // ...and how long another process waits after the last beat before it
  // takes back the running jobs.
  std::chrono::milliseconds rescue_after{60000};
  // Finished jobs are written back in batches of at most this many, at most
  // this long after they finished.
  int completion_batch = 512;
  std::chrono::milliseconds completion_delay{5};
  int errors_kept = 10;  // failures remembered per job
  // Retention, enforced by the jobs.prune schedule in batches.
  std::chrono::milliseconds keep_completed{std::chrono::hours(24)};
  std::chrono::milliseconds keep_discarded{std::chrono::hours(24 * 14)};
  int prune_batch = 1000;
  // Serve the admin API (/api/v1/admin/jobs...) on the admin listener.
  bool admin_api = false;
  std::map<std::string, KindPolicyOverride> kinds;

  int concurrency(const std::string& queue) const;
};

JobsConfig parse_jobs_config(config::Node node);

}  // namespace huntaze::jobs
