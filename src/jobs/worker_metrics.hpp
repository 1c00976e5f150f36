// The job queue's Prometheus metrics (labels: kind and queue names, which
// come from code, never from users).
#pragma once

#include "huntaze/core/metrics.hpp"

namespace huntaze::jobs {

struct WorkerMetrics {
  explicit WorkerMetrics(metrics::Registry& r)
      : completed(r.counter("huntaze_jobs_completed_total", "Jobs that finished successfully", {"kind"})),
        failed(r.counter("huntaze_jobs_failed_total", "Job attempts that failed (retried or discarded)", {"kind"})),
        discarded(r.counter("huntaze_jobs_discarded_total", "Jobs moved to the dead letters", {"kind"})),
        rescued(r.counter("huntaze_jobs_rescued_total", "Running jobs taken back from workers that stopped beating",
                          {"kind"})),
        handed_back(r.counter("huntaze_jobs_handed_back_total",
                              "Claimed jobs returned to the queue unfinished (shutdown, prefetch)", {"queue"})),
        run_seconds(r.histogram("huntaze_jobs_run_seconds", "Handler run time", {"kind"})),
        pickup_seconds(r.histogram("huntaze_jobs_pickup_seconds", "Delay from a job's run_at to its start", {"queue"})),
        running(r.gauge("huntaze_jobs_running", "Jobs running in this process", {"queue"})),
        depth(r.gauge("huntaze_jobs_depth", "Jobs in the table by queue and state (finished history excluded)",
                      {"queue", "state"})),
        oldest_ready(r.gauge("huntaze_jobs_oldest_ready_seconds", "Age of the oldest ready job not yet started",
                             {"queue"})) {}

  metrics::Family<metrics::Counter>& completed;
  metrics::Family<metrics::Counter>& failed;
  metrics::Family<metrics::Counter>& discarded;
  metrics::Family<metrics::Counter>& rescued;
  metrics::Family<metrics::Counter>& handed_back;
  metrics::Family<metrics::Histogram>& run_seconds;
  metrics::Family<metrics::Histogram>& pickup_seconds;
  metrics::Family<metrics::Gauge>& running;
  metrics::Family<metrics::Gauge>& depth;
  metrics::Family<metrics::Gauge>& oldest_ready;
};

}  // namespace huntaze::jobs
