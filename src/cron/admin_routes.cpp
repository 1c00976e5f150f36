#include "cron/admin_routes.hpp"

#include <boost/json.hpp>

#include "huntaze/core/error.hpp"
#include "huntaze/core/time_format.hpp"

namespace huntaze::cron {

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

// The run-now route takes no body.
constexpr size_t kNoBodyLimit = 4 << 10;

json::object schedule_json(const ScheduleInfo& s) {
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

asio::awaitable<http::Response> list_schedules(Cron& cron) {
  auto infos = co_await cron.list();
  json::array out;
  out.reserve(infos.size());
  for (const auto& info : infos) out.push_back(schedule_json(info));
  json::object body;
  body["schedules"] = std::move(out);
  co_return http::Response::json_text(200, json::serialize(body));
}

asio::awaitable<http::Response> run_schedule(Cron& cron, std::string name) {
  auto result = co_await cron.run_now(name);
  if (!result) throw ApiError(404, "schedule_not_found", "no schedule named '" + name + "'");
  json::object body;
  body["job_id"] = result->id;
  body["inserted"] = result->inserted;
  // Accepted: the job is queued, not done.
  co_return http::Response::json_text(202, json::serialize(body));
}

}  // namespace

void register_cron_admin_routes(http::Router& router, Cron& cron) {
  router.get("/api/v1/admin/schedules", [&cron](http::Request&) { return list_schedules(cron); });
  router.post(
      "/api/v1/admin/schedules/{name}/run",
      [&cron](http::Request& req) { return run_schedule(cron, std::string(req.param("name"))); },
      {.body_limit = kNoBodyLimit});
}

}  // namespace huntaze::cron
