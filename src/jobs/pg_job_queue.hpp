// The PostgreSQL implementation of JobQueue (schema jobs, sql/0002_jobs_queue.sql).
#pragma once

#include <memory>

#include "huntaze/core/clock.hpp"
#include "huntaze/core/metrics.hpp"
#include "huntaze/jobs/config.hpp"
#include "huntaze/jobs/job_queue.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::jobs {

// NOTIFY channel that tells workers a queue has ready work; the payload is
// the queue name. PostgreSQL folds identical notifications of one
// transaction into one, which debounces batch enqueues.
inline constexpr const char* kWakeChannel = "huntaze_jobs";
// NOTIFY channel for operator actions on running jobs; payload
// "cancel:<id>:<lease>" (the lease names the claim to stop).
inline constexpr const char* kControlChannel = "huntaze_jobs_control";

// The registry and clock must outlive the queue.
std::unique_ptr<JobQueue> make_pg_job_queue(const JobRegistry& registry, const Clock& clock,
                                            metrics::Registry& metrics);

}  // namespace huntaze::jobs
