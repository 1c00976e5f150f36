// The schedules the product runs, and placeholders for the job kinds their
// owning modules have not registered yet.
//
// A placeholder completes at once and logs that nothing handles the kind
// yet, so that ticks are visible (admin API, metrics) from day one and a
// module only has to register its kind to take a schedule over.
#pragma once

#include "huntaze/cron/cron.hpp"
#include "huntaze/jobs/registry.hpp"

namespace huntaze::app {

// Call after every module registered its jobs.
void register_product_schedules(cron::Cron& cron, jobs::JobRegistry& registry);

}  // namespace huntaze::app
