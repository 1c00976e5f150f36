// Reading jobs: the listing, the dead letters and one job.
#include <boost/json.hpp>

#include "jobs/admin_handlers.hpp"
#include "jobs/admin_json.hpp"
#include "jobs/admin_sql.hpp"

namespace huntaze::jobs::admin {

namespace {

namespace json = boost::json;

// SELECT ... WHERE <the filters given> ORDER BY id DESC: newest first, and the
// cursor (the last id shown) keeps the next page stable while jobs are added.
// One row more than asked tells whether there is a next page.
asio::awaitable<http::Response> list(const Context& ctx, const ListQuery& q) {
  std::string sql = admin_sql::kListPrefix;
  db::Params params;
  std::string where;
  auto filter = [&](const char* condition_before_param, db::Param value, const char* after = "") {
    params.push_back(std::move(value));
    where += where.empty() ? " WHERE " : " AND ";
    where += condition_before_param;
    where += "$" + std::to_string(params.size());
    where += after;
  };
  if (q.state) filter("state = ", std::string(to_string(*q.state)), "::jobs.job_state");
  if (q.queue) filter("queue = ", *q.queue);
  if (q.kind) filter("kind = ", *q.kind);
  if (q.before) filter("id < ", *q.before);
  params.push_back(static_cast<int64_t>(q.limit) + 1);
  sql += where + " ORDER BY id DESC LIMIT $" + std::to_string(params.size());

  auto rows = co_await ctx.db.query(sql, std::move(params));
  json::array jobs;
  const size_t shown = std::min(rows.size(), static_cast<size_t>(q.limit));
  jobs.reserve(shown);
  for (size_t i = 0; i < shown; ++i) jobs.push_back(job_summary(rows[i]));
  json::value next = nullptr;
  if (rows.size() > shown) next = encode_cursor(rows[shown - 1].get<int64_t>("id"));
  json::object body;
  body["jobs"] = std::move(jobs);
  body["next_cursor"] = std::move(next);
  co_return json_response(200, body);
}

}  // namespace

asio::awaitable<http::Response> list_jobs(const Context& ctx, http::Request& req) {
  const ListQuery q = parse_list_query(req, true);
  co_return co_await list(ctx, q);
}

asio::awaitable<http::Response> list_dead_letters(const Context& ctx, http::Request& req) {
  ListQuery q = parse_list_query(req, false);
  q.state = JobState::discarded;
  co_return co_await list(ctx, q);
}

asio::awaitable<http::Response> show_job(const Context& ctx, http::Request& req) {
  const int64_t id = path_id(req);
  auto rows = co_await ctx.db.query(admin_sql::kShow, id);
  if (rows.empty()) throw ApiError(404, "job_not_found", "no job " + std::to_string(id));
  co_return json_response(200, job_detail(rows.front()));
}

}  // namespace huntaze::jobs::admin
