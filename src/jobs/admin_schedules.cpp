// The cron schedules as operators see them, and running one out of turn.
#include <boost/json.hpp>

#include "huntaze/core/time_format.hpp"
#include "jobs/admin_handlers.hpp"
#include "jobs/admin_json.hpp"

namespace huntaze::jobs::admin {

namespace {

namespace json = boost::json;

const ScheduleAdmin& schedules_of(const Context& ctx) {
  if (!ctx.schedules)
    throw ApiError(503, "schedules_unavailable", "this process does not run cron, so it has no schedules to show");
  return *ctx.schedules;
}

json::object schedule_json(const cron::ScheduleInfo& s) {
  json::object o;
  o["name"] = s.name;
  o["spec"] = s.spec;
  o["timezone"] = s.timezone;
  o["kind"] = s.kind;
  o["enabled"] = s.enabled;
  o["last_tick"] = s.last_tick ? json::value(format_iso8601(*s.last_tick)) : json::value(nullptr);
  o["last_job_id"] = s.last_job_id ? json::value(*s.last_job_id) : json::value(nullptr);
  o["next_tick"] = format_iso8601(s.next_tick);
  return o;
}

}  // namespace

asio::awaitable<http::Response> list_schedules(const Context& ctx, http::Request&) {
  const ScheduleAdmin& schedules = schedules_of(ctx);
  auto infos = co_await schedules.list();
  json::array out;
  out.reserve(infos.size());
  for (const auto& info : infos) out.push_back(schedule_json(info));
  json::object body;
  body["schedules"] = std::move(out);
  co_return json_response(200, body);
}

asio::awaitable<http::Response> run_schedule(const Context& ctx, http::Request& req) {
  const ScheduleAdmin& schedules = schedules_of(ctx);
  const std::string name(req.param("name"));
  auto result = co_await schedules.run_now(name);
  if (!result) throw ApiError(404, "schedule_not_found", "no schedule named '" + name + "'");
  json::object body;
  body["job_id"] = result->id;
  body["inserted"] = result->inserted;
  // Accepted: the job is queued, not done.
  co_return json_response(202, body);
}

}  // namespace huntaze::jobs::admin
