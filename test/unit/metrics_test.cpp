#include "huntaze/core/metrics.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace huntaze::metrics;
using Catch::Matchers::Contains;

TEST_CASE("counters, gauges and histograms render in the Prometheus text format", "[metrics]") {
  Registry r;
  auto& requests = r.counter("http_requests_total", "HTTP requests", {"route", "status"});
  requests.with({"/api/v1/fans/{id}", "200"}).inc();
  requests.with({"/api/v1/fans/{id}", "200"}).inc(2);
  r.gauge("pool_idle", "Idle connections").with({}).set(3);
  auto& h = r.histogram("latency_seconds", "Latency", {}, {0.1, 1});
  h.with({}).observe(0.05);
  h.with({}).observe(0.5);
  h.with({}).observe(5);

  auto text = r.render();
  CHECK_THAT(text, Contains("# HELP http_requests_total HTTP requests\n# TYPE http_requests_total counter\n"));
  CHECK_THAT(text, Contains("http_requests_total{route=\"/api/v1/fans/{id}\",status=\"200\"} 3\n"));
  CHECK_THAT(text, Contains("# TYPE pool_idle gauge\npool_idle 3\n"));
  CHECK_THAT(text, Contains("latency_seconds_bucket{le=\"0.1\"} 1\n"));
  CHECK_THAT(text, Contains("latency_seconds_bucket{le=\"1\"} 2\n"));
  CHECK_THAT(text, Contains("latency_seconds_bucket{le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Contains("latency_seconds_sum 5.55\n"));
  CHECK_THAT(text, Contains("latency_seconds_count 3\n"));
}

TEST_CASE("label values are escaped", "[metrics]") {
  Registry r;
  r.counter("c_total", "help with \\ and\nnewline", {"l"}).with({"a\"b\\c\nd"}).inc();
  auto text = r.render();
  CHECK_THAT(text, Contains("c_total{l=\"a\\\"b\\\\c\\nd\"} 1"));
  CHECK_THAT(text, Contains("# HELP c_total help with \\\\ and\\nnewline"));
}

TEST_CASE("families are shared by name and checked for type and label count", "[metrics]") {
  Registry r;
  auto& a = r.counter("x_total", "x", {"k"});
  auto& b = r.counter("x_total", "x", {"k"});
  CHECK(&a == &b);
  CHECK_THROWS(r.gauge("x_total", "x"));
  CHECK_THROWS(a.with({"1", "2"}));
}

TEST_CASE("collectors run before each render", "[metrics]") {
  Registry r;
  auto& g = r.gauge("sampled", "sampled on demand").with({});
  int calls = 0;
  r.on_collect([&] { g.set(++calls); });
  CHECK_THAT(r.render(), Contains("sampled 1\n"));
  CHECK_THAT(r.render(), Contains("sampled 2\n"));
}

TEST_CASE("promtool accepts the exposition", "[metrics][promtool]") {
  Registry r;
  r.counter("http_requests_total", "HTTP requests", {"route", "method", "status"}).with({"/x", "GET", "200"}).inc();
  r.histogram("http_request_duration_seconds", "Latency", {"route"}).with({"/x"}).observe(0.003);
  r.gauge("db_pool_waiting", "Waiters").with({}).set(0);
  const std::string file = "/tmp/huntaze-metrics-" + std::to_string(::getpid()) + ".txt";
  std::ofstream(file) << r.render();
  // promtool is installed by scripts/bootstrap; a missing promtool fails here.
  int status = std::system(("promtool check metrics < " + file + " > " + file + ".out 2>&1").c_str());
  std::ifstream out(file + ".out");
  std::string report((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  std::remove(file.c_str());
  std::remove((file + ".out").c_str());
  INFO(report);
  CHECK(status == 0);
}
