#include "jobs/admin_routes.hpp"

#include <memory>

#include "jobs/admin_handlers.hpp"

namespace huntaze::jobs {

namespace {

// The actions take no body; the replay filter is a few ids at most.
constexpr size_t kNoBodyLimit = 4 << 10;
constexpr size_t kReplayBodyLimit = 64 << 10;

using AdminHandler = boost::asio::awaitable<http::Response> (*)(const admin::Context&, http::Request&);

http::Handler bind(std::shared_ptr<const admin::Context> ctx, AdminHandler handler) {
  return [ctx = std::move(ctx), handler](http::Request& req) { return handler(*ctx, req); };
}

}  // namespace

void register_jobs_admin_routes(http::Router& router, JobsAdminDeps deps) {
  auto ctx = std::make_shared<const admin::Context>(admin::Context{deps.db, deps.clock, deps.errors_kept});
  const http::RouteOptions no_body{.body_limit = kNoBodyLimit};
  router.get("/api/v1/admin/jobs", bind(ctx, admin::list_jobs));
  router.get("/api/v1/admin/jobs/{id}", bind(ctx, admin::show_job));
  router.post("/api/v1/admin/jobs/{id}/retry", bind(ctx, admin::retry_job), no_body);
  router.post("/api/v1/admin/jobs/{id}/cancel", bind(ctx, admin::cancel_job), no_body);
  router.post("/api/v1/admin/jobs/{id}/discard", bind(ctx, admin::discard_job), no_body);
  router.get("/api/v1/admin/dead-letters", bind(ctx, admin::list_dead_letters));
  router.post("/api/v1/admin/dead-letters/replay", bind(ctx, admin::replay_dead_letters),
              {.body_limit = kReplayBodyLimit});
}

}  // namespace huntaze::jobs
