// The jobs admin API over real HTTP against a real database: listings and
// their pages, the operator actions and the notifications they send, the
// dead letters and their replay, and the cron schedules.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <set>

#include "db_fixture.hpp"
#include "huntaze/core/time_format.hpp"
#include "huntaze/cron/cron.hpp"
#include "huntaze/jobs/registry.hpp"
#include "cron/admin_routes.hpp"
#include "jobs/admin_routes.hpp"
#include "jobs/pg_job_queue.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using test::dbt::DbFixture;

namespace {

const SysTime kNow = *parse_iso8601("2026-03-01T12:00:30Z");
constexpr const char* kNowText = "2026-03-01T12:00:30Z";

// The admin routes on a test server, over a fresh database and a stopped clock.
//
// The server is declared first so that it is destroyed last: a database
// operation started by a request completes on the pool's threads with the
// server's executor, so the pool must be closed and drained before the
// server's io_context goes.
struct Admin {
  test::TestServer server;
  DbFixture f;
  ManualClock clock{kNow};

  void start(cron::Cron* cron = nullptr) {
    jobs::register_jobs_admin_routes(server.router, {.db = *f.db, .clock = clock});
    if (cron) cron::register_cron_admin_routes(server.router, *cron);
    server.start();
  }
};

struct Reply {
  int status = 0;
  json::value body;

  // The error body's code, or "" when this is not an error body.
  std::string code() const {
    const auto* err = body.is_object() ? body.as_object().if_contains("error") : nullptr;
    return err ? std::string(err->at("code").as_string()) : "";
  }
};

Reply call(Admin& a, const std::string& method, const std::string& target, const std::string& body = "") {
  test::HttpConnection c(a.server.port());
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (method != "GET")
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  c.send(raw + "\r\n" + body);
  auto res = c.read_response();
  INFO(method << " " << target << " -> " << res.status << " " << res.body);
  REQUIRE(res.header("content-type").find("application/json") == 0);
  return {res.status, json::parse(res.body)};
}

Reply get(Admin& a, const std::string& target) {
  return call(a, "GET", target);
}
Reply post(Admin& a, const std::string& target, const std::string& body = "") {
  return call(a, "POST", target, body);
}

// A job written straight into jobs.jobs, in any state.
struct Seed {
  std::string state = "available";
  std::string queue = "default";
  std::string kind = "mail.send";
  int32_t attempt = 0;
  int32_t max_attempts = 5;
  std::string payload = "{}";
  std::string errors = "[]";
  std::optional<std::string> unique_key;
};

int64_t insert(Admin& a, const Seed& s) {
  const bool finished = s.state == "completed" || s.state == "cancelled" || s.state == "discarded";
  const db::Timestamp run_at = kNow - 1min, created = kNow - 1h, attempted = kNow - 30s, ended = kNow - 10s;
  std::optional<db::Timestamp> attempted_at, finished_at;
  if (s.attempt > 0) attempted_at = attempted;
  if (finished) finished_at = ended;
  std::optional<Uuid> worker;
  if (s.state == "running") worker = Uuid::v7();
  auto res = a.f.query(
      "INSERT INTO jobs.jobs (queue, kind, payload, state, run_at, attempt, max_attempts, errors, unique_key, "
      "timeout_ms, created_at, attempted_at, finished_at, worker_id) "
      "VALUES ($1, $2, $3, $4::jobs.job_state, $5, $6, $7, $8, $9, 60000, $10, $11, $12, $13) RETURNING id",
      {s.queue, s.kind, db::Json{s.payload}, s.state, run_at, s.attempt, s.max_attempts, db::Json{s.errors},
       s.unique_key, created, attempted_at, finished_at, worker});
  return res.front().get<int64_t>(0);
}

std::string column(Admin& a, int64_t id, const std::string& expression) {
  return test::admin_scalar(a.f.url, "SELECT " + expression + " FROM jobs.jobs WHERE id = " + std::to_string(id));
}
std::string state_of(Admin& a, int64_t id) {
  return column(a, id, "state");
}

std::string path(int64_t id, const std::string& action = "") {
  return "/api/v1/admin/jobs/" + std::to_string(id) + (action.empty() ? "" : "/" + action);
}

std::vector<int64_t> ids_of(const json::value& list) {
  std::vector<int64_t> ids;
  for (const auto& job : list.at("jobs").as_array()) ids.push_back(job.at("id").as_int64());
  return ids;
}

// Follows next_cursor from `cursor` (or the first page) to the end; returns
// every id seen, in order.
std::vector<int64_t> all_pages(Admin& a, const std::string& listing, std::string cursor = "") {
  std::vector<int64_t> ids;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = get(a, cursor.empty() ? listing : listing + "&cursor=" + cursor);
    REQUIRE(page.status == 200);
    auto some = ids_of(page.body);
    ids.insert(ids.end(), some.begin(), some.end());
    const auto& next = page.body.at("next_cursor");
    if (next.is_null()) return ids;
    REQUIRE_FALSE(some.empty());
    cursor = std::string(next.as_string());
  }
  FAIL("more than 100 pages");
  return ids;
}

// LISTEN on one channel; next() gives up after a deadline instead of hanging.
struct Listen {
  Listen(DbFixture& fixture, const std::string& channel) : f(fixture), listener(f.block(f.db->listener())) {
    f.block(listener->listen(channel));
  }
  ~Listen() { listener->close(); }

  std::optional<db::Notification> next() {
    auto pending = f.io.spawn(listener->next());
    if (pending.wait_for(10s) != std::future_status::ready) {
      listener->close();  // ends the pending next()
      pending.wait();
      return std::nullopt;
    }
    return pending.get();
  }

  DbFixture& f;
  std::unique_ptr<db::Listener> listener;
};

std::string errors_json(int n) {
  json::array errors;
  for (int i = 1; i <= n; ++i)
    errors.push_back(json::object{{"attempt", i}, {"at", "2026-03-01T11:00:00Z"}, {"error", "e" + std::to_string(i)}});
  return json::serialize(errors);
}

}  // namespace

TEST_CASE("jobs admin: the listing is newest first, filters, and pages without gaps or repeats", "[jobs][admin]") {
  Admin a;
  a.start();
  std::vector<int64_t> all;
  const char* states[] = {"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded"};
  for (int i = 0; i < 14; ++i)
    all.push_back(insert(
        a,
        {.state = states[i % 7], .queue = i % 2 ? "media" : "default", .kind = i % 3 ? "mail.send" : "media.process"}));
  std::vector<int64_t> newest_first(all.rbegin(), all.rend());

  auto first = get(a, "/api/v1/admin/jobs");
  REQUIRE(first.status == 200);
  CHECK(ids_of(first.body) == newest_first);  // 14 < the default limit of 50
  CHECK(first.body.at("next_cursor").is_null());

  // Pages of 3: each id exactly once, in order, even when a job is added
  // between pages (it is newer than the cursor, so it waits for a new listing).
  auto page1 = get(a, "/api/v1/admin/jobs?limit=3");
  REQUIRE(ids_of(page1.body) == std::vector<int64_t>(newest_first.begin(), newest_first.begin() + 3));
  REQUIRE(page1.body.at("next_cursor").is_string());
  const int64_t late = insert(a, {});
  auto rest = all_pages(a, "/api/v1/admin/jobs?limit=3", std::string(page1.body.at("next_cursor").as_string()));
  CHECK(rest == std::vector<int64_t>(newest_first.begin() + 3, newest_first.end()));
  CHECK(std::find(rest.begin(), rest.end(), late) == rest.end());
  // A page that ends exactly at the last job says so.
  CHECK(all_pages(a, "/api/v1/admin/jobs?limit=5").size() == 15);

  // Filters combine; empty values filter nothing.
  std::vector<int64_t> media_discarded;
  for (int i = 13; i >= 0; --i)
    if (i % 7 == 6 && i % 2 == 1) media_discarded.push_back(all[static_cast<size_t>(i)]);
  CHECK(ids_of(get(a, "/api/v1/admin/jobs?state=discarded&queue=media").body) == media_discarded);
  auto processing = get(a, "/api/v1/admin/jobs?kind=media.process&state=&queue=");
  for (const auto& job : processing.body.at("jobs").as_array()) CHECK(job.at("kind") == "media.process");
  CHECK(processing.body.at("jobs").as_array().size() == 5);  // i = 0, 3, 6, 9, 12
  CHECK(all_pages(a, "/api/v1/admin/jobs?state=running&limit=1") == std::vector<int64_t>{all[9], all[2]});

  // The summary of one job.
  auto running = get(a, "/api/v1/admin/jobs?state=running&limit=1").body.at("jobs").at(0).as_object();
  CHECK(running.at("state") == "running");
  CHECK(running.at("queue") == "media");
  CHECK(running.at("priority") == 0);
  CHECK(running.at("max_attempts") == 5);
  CHECK(running.at("run_at") == "2026-03-01T11:59:30Z");
  CHECK(running.at("created_at") == "2026-03-01T11:00:30Z");
  CHECK(running.at("finished_at").is_null());
  CHECK(running.at("unique_key").is_null());
  CHECK(running.at("worker_id").as_string().size() == 36);
  CHECK(running.at("last_error").is_null());
  CHECK_FALSE(running.contains("payload"));
}

TEST_CASE("jobs admin: bad states, cursors, limits and ids are 400 naming the value, unknown ids 404",
          "[jobs][admin]") {
  Admin a;
  a.start();
  insert(a, {});

  auto bad_state = get(a, "/api/v1/admin/jobs?state=exploded");
  CHECK(bad_state.status == 400);
  CHECK(bad_state.code() == "invalid_parameter");
  const auto& err = bad_state.body.at("error");
  CHECK(std::string(err.at("message").as_string()).find("'exploded'") != std::string::npos);
  CHECK(err.at("details").at(0).at("field") == "state");
  CHECK_FALSE(err.at("request_id").as_string().empty());

  for (const char* target :
       {"/api/v1/admin/jobs?cursor=abc", "/api/v1/admin/jobs?cursor=-5", "/api/v1/admin/jobs?cursor=0",
        "/api/v1/admin/jobs?cursor=99999999999999999999", "/api/v1/admin/dead-letters?cursor=1x"}) {
    INFO(target);
    auto r = get(a, target);
    CHECK(r.status == 400);
    CHECK(r.code() == "invalid_parameter");
    CHECK(r.body.at("error").at("details").at(0).at("field") == "cursor");
  }
  for (const char* limit : {"0", "501", "ten", "-1", "2.5"}) {
    INFO(limit);
    auto r = get(a, std::string("/api/v1/admin/jobs?limit=") + limit);
    CHECK(r.status == 400);
    CHECK(r.body.at("error").at("details").at(0).at("field") == "limit");
  }
  CHECK(get(a, "/api/v1/admin/jobs?limit=500").status == 200);
  // Every bad parameter is named at once.
  CHECK(get(a, "/api/v1/admin/jobs?limit=0&state=x&cursor=y").body.at("error").at("details").as_array().size() == 3);

  for (const char* id : {"abc", "0", "-1", "1.0", "99999999999999999999"}) {
    INFO(id);
    auto r = get(a, std::string("/api/v1/admin/jobs/") + id);
    CHECK(r.status == 400);
    CHECK(r.code() == "invalid_parameter");
    CHECK(post(a, std::string("/api/v1/admin/jobs/") + id + "/retry").status == 400);
  }
  for (const char* action : {"", "retry", "cancel", "discard"}) {
    INFO(action);
    auto r = std::string(action).empty() ? get(a, path(424242)) : post(a, path(424242, action));
    CHECK(r.status == 404);
    CHECK(r.code() == "job_not_found");
  }
}

TEST_CASE("jobs admin: one job shows its payload as JSON and its error history", "[jobs][admin]") {
  Admin a;
  a.start();
  const int64_t id = insert(a, {.state = "retryable",
                                .kind = "ai.reply",
                                .attempt = 2,
                                .payload = R"({"conversation":"c-1","tries":[1,2]})",
                                .errors = errors_json(2),
                                .unique_key = "reply:c-1"});
  auto r = get(a, path(id));
  REQUIRE(r.status == 200);
  const auto& job = r.body.as_object();
  CHECK(job.at("id") == id);
  CHECK(job.at("kind") == "ai.reply");
  CHECK(job.at("state") == "retryable");
  CHECK(job.at("attempt") == 2);
  CHECK(job.at("payload").at("conversation") == "c-1");  // an object, not a string
  CHECK(job.at("payload").at("tries").at(1) == 2);
  REQUIRE(job.at("errors").as_array().size() == 2);
  CHECK(job.at("errors").at(1).at("error") == "e2");
  CHECK(job.at("last_error") == "e2");
  CHECK(job.at("unique_key") == "reply:c-1");
  CHECK(job.at("timeout_ms") == 60000);
  CHECK(job.at("attempted_at") == "2026-03-01T12:00:00Z");
  CHECK(job.at("heartbeat_at").is_null());
  // The listing shows the same last error.
  CHECK(get(a, "/api/v1/admin/jobs").body.at("jobs").at(0).at("last_error") == "e2");
}

TEST_CASE("jobs admin: retry runs a job again now and wakes the workers of its queue", "[jobs][admin]") {
  Admin a;
  a.start();
  Listen wake(a.f, jobs::kWakeChannel);

  SECTION("a dead letter gets a fresh set of attempts and keeps its history") {
    const int64_t id = insert(a, {.state = "discarded", .queue = "mail", .attempt = 5, .errors = errors_json(5)});
    auto r = post(a, path(id, "retry"));
    REQUIRE(r.status == 200);
    CHECK(r.body.at("state") == "available");
    CHECK(r.body.at("attempt") == 0);
    CHECK(r.body.at("run_at") == kNowText);
    CHECK(r.body.at("finished_at").is_null());
    CHECK(r.body.at("errors").as_array().size() == 5);
    CHECK(state_of(a, id) == "available");
    CHECK(column(a, id, "attempt") == "0");
    auto n = wake.next();
    REQUIRE(n);
    CHECK(n->channel == jobs::kWakeChannel);
    CHECK(n->payload == "mail");
  }
  SECTION("a cancelled job too") {
    const int64_t id = insert(a, {.state = "cancelled", .attempt = 1});
    auto r = post(a, path(id, "retry"));
    CHECK(r.status == 200);
    CHECK(r.body.at("attempt") == 0);
    CHECK(state_of(a, id) == "available");
  }
  SECTION("a job waiting for its backoff runs now and keeps its attempt count") {
    const int64_t id = insert(a, {.state = "retryable", .queue = "ai", .attempt = 2});
    test::admin_exec(a.f.url, "UPDATE jobs.jobs SET run_at = '2026-03-01T13:00:00Z' WHERE id = " + std::to_string(id));
    auto r = post(a, path(id, "retry"));
    CHECK(r.status == 200);
    CHECK(r.body.at("attempt") == 2);
    CHECK(r.body.at("run_at") == kNowText);
    auto n = wake.next();
    REQUIRE(n);
    CHECK(n->payload == "ai");
  }
  SECTION("running and completed jobs are refused with 409, unchanged") {
    const int64_t running = insert(a, {.state = "running", .attempt = 1});
    const int64_t completed = insert(a, {.state = "completed", .attempt = 1});
    auto r1 = post(a, path(running, "retry"));
    CHECK(r1.status == 409);
    CHECK(r1.code() == "job_running");
    CHECK(state_of(a, running) == "running");
    auto r2 = post(a, path(completed, "retry"));
    CHECK(r2.status == 409);
    CHECK(r2.code() == "job_completed");
    CHECK(state_of(a, completed) == "completed");
  }
  SECTION("a dead letter whose unique key a live job holds is refused with 409 naming that job") {
    const int64_t dead = insert(a, {.state = "discarded", .attempt = 5, .unique_key = "sync:42"});
    const int64_t live = insert(a, {.state = "scheduled", .unique_key = "sync:42"});
    auto r = post(a, path(dead, "retry"));
    CHECK(r.status == 409);
    CHECK(r.code() == "duplicate_live_job");
    CHECK(std::string(r.body.at("error").at("details").at(0).at("message").as_string()) ==
          "held by live job " + std::to_string(live));
    CHECK(state_of(a, dead) == "discarded");
    CHECK(column(a, dead, "attempt") == "5");
  }
}

TEST_CASE("jobs admin: cancel stops a job, and tells the worker of a running one", "[jobs][admin]") {
  Admin a;
  a.start();
  Listen control(a.f, jobs::kControlChannel);
  const int64_t waiting = insert(a, {.state = "scheduled"});
  const int64_t running = insert(a, {.state = "running", .attempt = 1});

  auto r1 = post(a, path(waiting, "cancel"));
  REQUIRE(r1.status == 200);
  CHECK(r1.body.at("state") == "cancelled");
  CHECK(r1.body.at("finished_at") == kNowText);

  auto r2 = post(a, path(running, "cancel"));
  REQUIRE(r2.status == 200);
  CHECK(r2.body.at("state") == "cancelled");
  CHECK(r2.body.at("worker_id").is_null());
  CHECK(state_of(a, running) == "cancelled");
  CHECK(column(a, running, "worker_id IS NULL") == "t");
  // The first control message is the running job's: cancelling a job that
  // was not running sent none.
  auto n = control.next();
  REQUIRE(n);
  CHECK(n->channel == jobs::kControlChannel);
  CHECK(n->payload == "cancel:" + std::to_string(running) + ":0");  // rows inserted by hand have lease 0

  // Finished jobs stay as they are.
  const int64_t completed = insert(a, {.state = "completed", .attempt = 1});
  for (int64_t id : {running, completed}) {
    auto r = post(a, path(id, "cancel"));
    CHECK(r.status == 409);
    CHECK(r.code() == "job_finished");
  }
  CHECK(state_of(a, completed) == "completed");
}

TEST_CASE("jobs admin: discard dead-letters a job with an operator entry, keeping ten entries", "[jobs][admin]") {
  Admin a;
  a.start();
  Listen control(a.f, jobs::kControlChannel);
  const int64_t quiet = insert(a, {.state = "available"});
  const int64_t busy = insert(a, {.state = "running", .attempt = 3, .errors = errors_json(10)});

  auto r1 = post(a, path(quiet, "discard"));
  REQUIRE(r1.status == 200);
  CHECK(r1.body.at("state") == "discarded");
  REQUIRE(r1.body.at("errors").as_array().size() == 1);
  CHECK(r1.body.at("errors").at(0) ==
        json::parse(R"({"attempt":0,"at":")" + std::string(kNowText) + R"(","reason":"operator","error":"discarded by an operator"})"));
  CHECK(r1.body.at("last_error") == "discarded by an operator");

  auto r2 = post(a, path(busy, "discard"));
  REQUIRE(r2.status == 200);
  CHECK(r2.body.at("state") == "discarded");
  CHECK(r2.body.at("finished_at") == kNowText);
  CHECK(r2.body.at("worker_id").is_null());
  const auto& errors = r2.body.at("errors").as_array();
  REQUIRE(errors.size() == 10);
  CHECK(errors.front().at("error") == "e2");  // the oldest made room
  CHECK(errors.back().at("attempt") == 3);
  CHECK(errors.back().at("error") == "discarded by an operator");
  CHECK(column(a, busy, "jsonb_array_length(errors)") == "10");
  auto n = control.next();
  REQUIRE(n);
  CHECK(n->payload == "cancel:" + std::to_string(busy) + ":0");

  for (const char* state : {"completed", "cancelled", "discarded"}) {
    INFO(state);
    const int64_t id = insert(a, {.state = state, .attempt = 1});
    auto r = post(a, path(id, "discard"));
    CHECK(r.status == 409);
    CHECK(r.code() == "job_finished");
    CHECK(state_of(a, id) == state);
    CHECK(column(a, id, "jsonb_array_length(errors)") == "0");
  }
}

TEST_CASE("jobs admin: dead letters are listed and replayed in bulk, never clashing with a live unique key",
          "[jobs][admin]") {
  Admin a;
  a.start();
  const int64_t plain = insert(a, {.state = "discarded", .queue = "q1", .kind = "k1", .attempt = 5});
  const int64_t held = insert(a, {.state = "discarded", .queue = "q1", .kind = "k1", .unique_key = "u1"});
  const int64_t holder = insert(a, {.state = "available", .queue = "q1", .kind = "k1", .unique_key = "u1"});
  const int64_t twin_old = insert(a, {.state = "discarded", .queue = "q2", .kind = "k1", .unique_key = "u2"});
  const int64_t twin_new = insert(a, {.state = "discarded", .queue = "q2", .kind = "k1", .unique_key = "u2"});
  const int64_t other = insert(a, {.state = "discarded", .queue = "q1", .kind = "k2"});
  insert(a, {.state = "completed", .queue = "q1", .kind = "k1"});

  const std::vector<int64_t> dead{other, twin_new, twin_old, held, plain};
  CHECK(all_pages(a, "/api/v1/admin/dead-letters?limit=2") == dead);
  CHECK(ids_of(get(a, "/api/v1/admin/dead-letters?kind=k2").body) == std::vector<int64_t>{other});
  CHECK(ids_of(get(a, "/api/v1/admin/dead-letters?queue=q2").body) == std::vector<int64_t>{twin_new, twin_old});
  // The state filter does not apply here: these are the discarded jobs.
  CHECK(ids_of(get(a, "/api/v1/admin/dead-letters?state=completed").body) == dead);

  Listen wake(a.f, jobs::kWakeChannel);
  auto r1 = post(a, "/api/v1/admin/dead-letters/replay", R"({"kind":"k1"})");
  REQUIRE(r1.status == 200);
  CHECK(r1.body.at("replayed") == 2);
  CHECK(state_of(a, plain) == "available");
  CHECK(column(a, plain, "attempt") == "0");
  CHECK(column(a, plain, "finished_at IS NULL") == "t");
  CHECK(column(a, plain, "run_at = '" + std::string(kNowText) + "'") == "t");
  CHECK(state_of(a, held) == "discarded");      // u1 belongs to a live job
  CHECK(state_of(a, twin_new) == "available");  // one per key: the newest
  CHECK(state_of(a, twin_old) == "discarded");
  CHECK(state_of(a, other) == "discarded");  // another kind
  std::set<std::string> woken;
  for (int i = 0; i < 2; ++i) {
    auto n = wake.next();
    REQUIRE(n);
    woken.insert(n->payload);
  }
  CHECK(woken == std::set<std::string>{"q1", "q2"});

  auto r2 = post(a, "/api/v1/admin/dead-letters/replay", R"({"ids":[)" + std::to_string(other) + "]}");
  CHECK(r2.body.at("replayed") == 1);
  CHECK(state_of(a, other) == "available");
  // Everything left clashes with a live key.
  CHECK(post(a, "/api/v1/admin/dead-letters/replay").body.at("replayed") == 0);

  // Once the keys are free again: oldest first, `limit` at a time.
  test::admin_exec(a.f.url, "UPDATE jobs.jobs SET state = 'completed', finished_at = now() WHERE id IN (" +
                                std::to_string(holder) + ", " + std::to_string(twin_new) + ")");
  CHECK(post(a, "/api/v1/admin/dead-letters/replay", R"({"limit":1})").body.at("replayed") == 1);
  CHECK(state_of(a, held) == "available");
  CHECK(state_of(a, twin_old) == "discarded");
  CHECK(post(a, "/api/v1/admin/dead-letters/replay", R"({"queue":"q2","kind":"k1","limit":10})").body.at("replayed") ==
        1);
  CHECK(state_of(a, twin_old) == "available");
}

TEST_CASE("jobs admin: a replay request with unknown fields or wrong types is 400 with details", "[jobs][admin]") {
  Admin a;
  a.start();
  const int64_t dead = insert(a, {.state = "discarded"});
  struct Bad {
    const char* body;
    const char* code;
    const char* field;
  };
  for (const Bad& bad :
       {Bad{R"({"colour":"red"})", "invalid_body", "/colour"}, Bad{R"({"limit":"ten"})", "invalid_body", "/limit"},
        Bad{R"({"limit":0})", "invalid_body", "/limit"}, Bad{R"({"limit":10001})", "invalid_body", "/limit"},
        Bad{R"({"limit":2.5})", "invalid_body", "/limit"}, Bad{R"({"kind":5})", "invalid_body", "/kind"},
        Bad{R"({"queue":""})", "invalid_body", "/queue"}, Bad{R"({"ids":7})", "invalid_body", "/ids"},
        Bad{R"({"ids":[1,"2"]})", "invalid_body", "/ids/1"}, Bad{R"({"ids":[-3]})", "invalid_body", "/ids/0"},
        Bad{R"([1,2])", "invalid_body", ""}, Bad{R"({"kind":)", "invalid_json", nullptr}}) {
    INFO(bad.body);
    auto r = post(a, "/api/v1/admin/dead-letters/replay", bad.body);
    CHECK(r.status == 400);
    CHECK(r.code() == bad.code);
    if (bad.field) CHECK(r.body.at("error").at("details").at(0).at("field") == bad.field);
  }
  auto two = post(a, "/api/v1/admin/dead-letters/replay", R"({"kind":5,"extra":true})");
  CHECK(two.body.at("error").at("details").as_array().size() == 2);
  CHECK(state_of(a, dead) == "discarded");  // nothing was replayed by a bad request
  CHECK(post(a, "/api/v1/admin/dead-letters/replay", "{}").body.at("replayed") == 1);
}

TEST_CASE("jobs admin: schedules are listed and run out of turn through Cron", "[jobs][admin]") {
  Admin a;
  jobs::JobRegistry registry;
  registry.add("reports.daily", [](jobs::JobContext&) -> asio::awaitable<void> { co_return; });
  auto queue = jobs::make_pg_job_queue(registry, a.clock, a.f.registry);
  cron::CronConfig config;
  config.schedules["cleanup"].enabled = false;
  cron::Cron cron(*a.f.db, *queue, a.clock, config);
  cron.add({.name = "reports", .spec = "@hourly", .kind = "reports.daily"});
  cron.add({.name = "cleanup", .spec = "0 3 * * *", .timezone = "Europe/Paris", .kind = "reports.daily"});
  a.start(&cron);

  auto list = get(a, "/api/v1/admin/schedules");
  REQUIRE(list.status == 200);
  std::map<std::string, json::object> by_name;
  for (const auto& s : list.body.at("schedules").as_array())
    by_name[std::string(s.at("name").as_string())] = s.as_object();
  REQUIRE(by_name.size() == 2);
  const auto& reports = by_name.at("reports");
  CHECK(reports.at("spec") == "@hourly");
  CHECK(reports.at("timezone") == "UTC");
  CHECK(reports.at("kind") == "reports.daily");
  CHECK(reports.at("enabled") == true);
  CHECK(reports.at("last_tick").is_null());
  CHECK(reports.at("last_job_id").is_null());
  CHECK(reports.at("next_tick") == "2026-03-01T13:00:00Z");
  const auto& cleanup = by_name.at("cleanup");
  CHECK(cleanup.at("enabled") == false);
  CHECK(cleanup.at("timezone") == "Europe/Paris");
  CHECK(cleanup.at("next_tick") == "2026-03-02T02:00:00Z");  // 03:00 in Paris, UTC+1 in March

  auto run = post(a, "/api/v1/admin/schedules/reports/run");
  REQUIRE(run.status == 202);
  CHECK(run.body.at("inserted") == true);
  const int64_t job = run.body.at("job_id").as_int64();
  CHECK(column(a, job, "kind") == "reports.daily");
  CHECK(get(a, path(job)).body.at("state") == "available");

  auto missing = post(a, "/api/v1/admin/schedules/nope/run");
  CHECK(missing.status == 404);
  CHECK(missing.code() == "schedule_not_found");
}
