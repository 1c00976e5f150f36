// The jobs admin API: what an operator uses instead of the old queue
// service's console. Served on the admin listener when jobs.admin_api is true.
//
//   GET  /api/v1/admin/jobs?queue=&state=&kind=&limit=&cursor=   newest first, keyset pages
//   GET  /api/v1/admin/jobs/{id}                                 payload, error history
//   POST /api/v1/admin/jobs/{id}/retry | cancel | discard
//   GET  /api/v1/admin/dead-letters?queue=&kind=&limit=&cursor=  the discarded jobs
//   POST /api/v1/admin/dead-letters/replay                       {"kind","queue","ids","limit"}, all optional
//
// (The schedule routes live with cron: src/cron/admin_routes.hpp.)
//
// Every state change takes the job's row lock, so an operator's action and a
// worker's write-back never interleave: workers only write back rows that are
// still running for them. Actions that make a job ready NOTIFY the workers;
// cancelling or discarding a running job tells its worker to stop the handler.
//
// The dependencies must outlive the router.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "huntaze/core/clock.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

struct JobsAdminDeps {
  db::Database& db;
  const Clock& clock;
  // Failures remembered per job (jobs.errors_kept); discard appends one.
  int errors_kept = 10;
};

void register_jobs_admin_routes(http::Router& router, JobsAdminDeps deps);

}  // namespace huntaze::jobs
