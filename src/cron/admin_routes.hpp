// The cron schedules as operators see them (admin listener, with
// jobs.admin_api):
//
//   GET  /api/v1/admin/schedules                 name, spec, timezone, kind, enabled, last_tick, last_job_id, next_tick
//   POST /api/v1/admin/schedules/{name}/run      202 {"job_id","inserted"}; 404 schedule_not_found
//
// `cron` must outlive the router.
#pragma once

#include "huntaze/cron/cron.hpp"
#include "huntaze/http/router.hpp"

namespace huntaze::cron {

void register_cron_admin_routes(http::Router& router, Cron& cron);

}  // namespace huntaze::cron
