// The queue's own housekeeping job: `jobs.prune` deletes finished jobs past
// their retention (jobs.keep_completed, jobs.keep_discarded) in small
// batches, so that no single statement holds locks or bloats WAL.
#pragma once

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/jobs/config.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::jobs {

inline constexpr const char* kPruneKind = "jobs.prune";

// db and clock must outlive the registry's use.
void register_maintenance_jobs(JobRegistry& registry, db::Database& db, const Clock& clock, const JobsConfig& config);

// One full prune pass; returns the rows deleted.
boost::asio::awaitable<int64_t> prune_jobs(db::Database& db, const Clock& clock, const JobsConfig& config,
                                           JobContext* job = nullptr);

}  // namespace huntaze::jobs
