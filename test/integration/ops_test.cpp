// The whole process as `huntaze serve` builds it: migrations on start, the
// operations endpoints, and readiness following its dependencies.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "app/app.hpp"
#include "support/app_config.hpp"
#include "support/harness.hpp"
#include "support/http_client.hpp"

using namespace huntaze;
using namespace std::chrono_literals;

namespace {

app::AppConfig config_for(const std::string& db_url, const redis::RedisConfig& redis) {
  app::AppConfig c = test::app_config_for(db_url, redis);
  c.metrics.readiness_timeout = 500ms;
  return c;
}

}  // namespace

TEST_CASE("serve migrates on start and answers /healthz and /readyz", "[ops]") {
  const auto url = test::empty_database_url();
  app::App app(config_for(url, test::shared_redis_config()));
  app.start();

  auto health = test::http_get(app.port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"status":"ok"})");

  auto ready = test::http_get(app.port(), "/readyz");
  CHECK(ready.status == 200);
  auto body = boost::json::parse(ready.body);
  CHECK(body.at("checks").at("postgres") == "ok");
  CHECK(body.at("checks").at("redis") == "ok");

  // The migrations ran, and the job worker registered itself.
  CHECK_NOTHROW(test::admin_exec(url, "CREATE TABLE auth.probe (x int)"));
  CHECK(test::admin_scalar(url, "SELECT count(*) FROM jobs.workers") == "1");
  app.request_stop();
  CHECK(app.wait() == 0);
  CHECK(test::admin_scalar(url, "SELECT count(*) FROM jobs.workers") == "0");
}

TEST_CASE("/readyz turns 503 naming Redis while it is down, and 200 when it is back", "[ops]") {
  test::RedisProcess redis;
  app::App app(config_for(test::fresh_database_url(), redis.config()));
  app.start();
  REQUIRE(test::eventually([&] { return test::http_get(app.port(), "/readyz").status == 200; }));

  redis.stop();
  REQUIRE(test::eventually([&] { return test::http_get(app.port(), "/readyz").status == 503; }));
  auto down = test::http_get(app.port(), "/readyz");
  auto err = boost::json::parse(down.body).at("error");
  CHECK(err.at("code") == "not_ready");
  CHECK(err.at("message") == "redis unavailable");
  CHECK(err.at("details").at(0).at("field") == "redis");
  CHECK(down.header("retry-after") == "1");
  CHECK(test::http_get(app.port(), "/healthz").status == 200);  // liveness does not follow dependencies

  redis.start();
  CHECK(test::eventually([&] { return test::http_get(app.port(), "/readyz").status == 200; }, 20s));
  app.request_stop();
  CHECK(app.wait() == 0);
}

TEST_CASE("/metrics exposes HTTP, pool, Redis and process metrics that promtool accepts", "[ops][promtool]") {
  app::App app(config_for(test::fresh_database_url(), test::shared_redis_config()));
  app.start();
  test::http_get(app.port(), "/readyz");
  test::http_get(app.port(), "/nowhere");
  auto res = test::http_get(app.port(), "/metrics");
  CHECK(res.status == 200);
  CHECK(res.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  for (const char* name : {"http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}",
                           "http_requests_total{route=\"<unmatched>\",method=\"GET\",status=\"404\"}",
                           "http_request_duration_seconds_bucket", "http_requests_in_flight", "db_pool_connections",
                           "db_pool_waiting", "redis_connected", "process_resident_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_cpu_seconds_total", "huntaze_build_info{version="}) {
    INFO(name);
    CHECK(res.body.find(name) != std::string::npos);
  }
  const std::string file = "/tmp/huntaze-scrape-" + std::to_string(::getpid()) + ".txt";
  std::ofstream(file) << res.body;
  int status = std::system(("promtool check metrics < " + file + " > /dev/null 2>&1").c_str());
  std::remove(file.c_str());
  CHECK(status == 0);
  app.request_stop();
  CHECK(app.wait() == 0);
}

TEST_CASE("metrics.listen moves the operations endpoints to a separate admin listener", "[ops]") {
  auto cfg = config_for(test::fresh_database_url(), test::shared_redis_config());
  cfg.metrics.listen = "127.0.0.1:" + std::to_string(test::free_port());
  app::App app(cfg);
  app.start();
  REQUIRE(app.admin_port() != 0);
  CHECK(test::http_get(app.admin_port(), "/metrics").status == 200);
  CHECK(test::http_get(app.admin_port(), "/readyz").status == 200);
  CHECK(test::http_get(app.port(), "/metrics").status == 404);
  app.request_stop();
  CHECK(app.wait() == 0);
}

TEST_CASE("an unreachable database fails start-up instead of serving half a process", "[ops]") {
  auto cfg = config_for("host=127.0.0.1 port=" + std::to_string(test::free_port()) + " user=huntaze dbname=x",
                        test::shared_redis_config());
  cfg.database.connect_timeout = 500ms;
  app::App app(cfg);
  CHECK_THROWS(app.start());
  app.request_stop();
  app.wait();
}

TEST_CASE("serve with jobs.admin_api lists the product schedules on the admin listener and guards them on the main one",
          "[ops][jobs]") {
  auto config = config_for(test::fresh_database_url(), test::shared_redis_config());
  config.metrics.listen = "127.0.0.1:" + std::to_string(test::free_port());
  config.jobs.admin_api = true;
  app::App app(config);
  app.start();
  auto schedules = test::http_get(app.admin_port(), "/api/v1/admin/schedules");
  REQUIRE(schedules.status == 200);
  auto body = boost::json::parse(schedules.body);
  std::vector<std::string> names;
  for (const auto& s : body.at("schedules").as_array()) names.emplace_back(s.at("name").as_string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"ai.budget_reconcile", "ai.prompt_samples_prune", "ai.usage_partitions",
                                          "auth.prune", "billing.monthly", "content.archive", "content.partitions",
                                          "content.prune", "events.dispatch", "insights.daily", "jobs.prune",
                                          "media.lifecycle", "offers.activate", "offers.expire", "posts.due"});
  CHECK(test::http_get(app.admin_port(), "/api/v1/admin/jobs?state=discarded").status == 200);
  CHECK(test::http_get(app.port(), "/api/v1/admin/jobs").status == 401);  // the main listener wants a platform admin
  app.request_stop();
  CHECK(app.wait() == 0);
}
