// The jobs admin API: what an operator uses instead of the old queue
// service's console. Served on the admin listener when jobs.admin_api is true.
//
//   GET  /api/v1/admin/jobs?queue=&state=&kind=&limit=&cursor=   newest first, keyset pages
//   GET  /api/v1/admin/jobs/{id}                                 payload, error history
//   POST /api/v1/admin/jobs/{id}/retry | cancel | discard
//   GET  /api/v1/admin/dead-letters?queue=&kind=&limit=&cursor=  the discarded jobs
//   POST /api/v1/admin/dead-letters/replay                       {"kind","queue","ids","limit"}, all optional
//   GET  /api/v1/admin/schedules
//   POST /api/v1/admin/schedules/{name}/run                      202 {"job_id","inserted"}
//
// Every state change takes the job's row lock, so an operator's action and a
// worker's write-back never interleave: workers only write back rows that are
// still running for them. Actions that make a job ready NOTIFY the workers;
// cancelling or discarding a running job tells its worker to stop the handler.
//
// The dependencies must outlive the router.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "huntaze/core/clock.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/db/database.hpp"
#include "huntaze/http/router.hpp"
#include "huntaze/jobs/job.hpp"

namespace huntaze::jobs {

struct JobsAdminDeps {
  db::Database& db;
  cron::Cron* cron;  // null: the schedule routes answer 503 schedules_unavailable
  const Clock& clock;
  // Failures remembered per job (jobs.errors_kept); discard appends one.
  int errors_kept = 10;
};

// The two calls the schedule routes make on Cron. The cron library links this
// one (it enqueues through JobQueue), so this library must not call Cron
// itself: register_jobs_admin_routes() below is inline and wraps the calls in
// the caller's translation unit, which links both.
struct ScheduleAdmin {
  std::function<boost::asio::awaitable<std::vector<cron::ScheduleInfo>>()> list;
  // The name must stay alive until the returned awaitable completes.
  std::function<boost::asio::awaitable<std::optional<EnqueueResult>>(const std::string& name)> run_now;
};

// Registers the routes above; `schedules` absent: the schedule routes answer 503.
void register_jobs_admin_routes(http::Router& router, db::Database& db, const Clock& clock, int errors_kept,
                                std::optional<ScheduleAdmin> schedules);

inline void register_jobs_admin_routes(http::Router& router, JobsAdminDeps deps) {
  std::optional<ScheduleAdmin> schedules;
  if (cron::Cron* cron = deps.cron) {
    schedules =
        ScheduleAdmin{[cron] { return cron->list(); }, [cron](const std::string& name) { return cron->run_now(name); }};
  }
  register_jobs_admin_routes(router, deps.db, deps.clock, deps.errors_kept, std::move(schedules));
}

}  // namespace huntaze::jobs
