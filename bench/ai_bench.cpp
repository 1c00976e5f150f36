// bench_ai: what the model router adds to a model call, run by bench/ai.sh
// against a private PostgreSQL (usage log) and Redis (cache). One process:
// the fake OpenAI upstream (test/support/fake_openai.cpp, instant answers,
// one thread), huntaze's HTTP server with the real router, cache and usage
// log (two I/O threads, as one instance runs), and a load generator (one
// thread) with keep-alive connections.
//
//   0. machine    how late a thread sleeping 1 ms wakes up: the host's own noise
//   then --rounds rounds of --seconds each, interleaved so that the host's
//   noisy moments fall on every path alike:
//   1. direct     POST the fake upstream's /models/chat/completions at --rate
//   2. routed     POST /api/v1/ai/chat/completions at --rate, Cache-Control: no-store
//                 (every request goes upstream: parse, route, call, answer, usage row)
//   3. cache_hit  the same request at --rate, answered from Redis
//   then
//   4. max        routed requests as fast as --connections closed-loop clients go
//
// Latency is measured from each request's scheduled send time (no coordinated
// omission). The overhead is routed minus direct at the same rate. "inside"
// lines split the server's share (headers read to response ready) and the
// Redis round trip from the histograms huntaze exports.
//
//   bench_ai --db <url> --redis-port <port> [--rate 1000] [--seconds 2] [--rounds 5]
//            [--connections 32] [--usage 0|1]
//
// Prints a summary, then one `BENCH <name> <value> <unit>` line per figure.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ai_router/api_routes.hpp"
#include "ai_router/make_router.hpp"
#include "ai_router/response_cache.hpp"
#include "ai_router/router_metrics.hpp"
#include "ai_router/usage_log.hpp"
#include "db/pg_pool.hpp"
#include "http/curl_client.hpp"
#include "http/server.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/db/migrations.hpp"
#include "huntaze/http/middleware.hpp"
#include "redis/redis_client.hpp"
#include "support/fake_openai.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace huntaze;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

struct Options {
  std::string db_url;
  int redis_port = 0;
  std::map<std::string, int> n{{"rate", 1000}, {"seconds", 2}, {"rounds", 5}, {"connections", 32}, {"usage", 1}, {"threads", 2}};
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--db")
      o.db_url = value;
    else if (flag == "--redis-port")
      o.redis_port = std::stoi(value);
    else if (flag.starts_with("--") && o.n.contains(flag.substr(2)))
      o.n[flag.substr(2)] = std::stoi(value);
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  if (o.db_url.empty() || o.redis_port == 0) throw std::invalid_argument("--db and --redis-port are required");
  return o;
}

struct Target {
  int port;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Result {
  std::vector<double> latencies_us;  // of successful requests
  int errors = 0;
  double seconds = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

// One keep-alive connection sending requests from a shared schedule: request
// k is due at start + k / rate (or at once when rate is 0: closed loop).
asio::awaitable<void> client(const Target& t, Steady::time_point start, double rate, Steady::time_point end,
                             std::atomic<int64_t>& next, Result& out, std::mutex& mutex) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), t.port),
                                asio::use_awaitable);
  beast::http::request<beast::http::string_body> req{beast::http::verb::post, t.path, 11};
  req.set(beast::http::field::host, "127.0.0.1");
  req.set(beast::http::field::content_type, "application/json");
  for (const auto& [k, v] : t.headers) req.set(k, v);
  req.body() = t.body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  asio::steady_timer timer(ex);
  std::vector<double> mine;
  int errors = 0;
  for (;;) {
    const int64_t k = next++;
    const auto due = rate > 0 ? start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * k / rate)) : Steady::now();
    if (due >= end) break;
    if (due > Steady::now()) {
      timer.expires_at(due);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    beast::http::response<beast::http::string_body> res;
    auto [ew, nw] = co_await beast::http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
    auto [er, nr] = co_await beast::http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
    if (ew || er) {
      ++errors;
      break;
    }
    if (res.result_int() != 200) {
      ++errors;
      continue;
    }
    mine.push_back(std::chrono::duration<double, std::micro>(Steady::now() - due).count());
  }
  std::lock_guard lock(mutex);
  out.latencies_us.insert(out.latencies_us.end(), mine.begin(), mine.end());
  out.errors += errors;
}

Result load(const Target& t, double rate, int seconds, int connections) {
  asio::io_context ioc;
  Result out;
  std::mutex mutex;
  std::atomic<int64_t> next{0};
  const auto start = Steady::now() + 50ms;
  const auto end = start + std::chrono::seconds(seconds);
  for (int i = 0; i < connections; ++i)
    asio::co_spawn(ioc, client(t, start, rate, end, next, out, mutex), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  ioc.run();
  out.seconds = std::chrono::duration<double>(Steady::now() - start).count();
  return out;
}

void append(Result& into, const Result& more) {
  into.latencies_us.insert(into.latencies_us.end(), more.latencies_us.begin(), more.latencies_us.end());
  into.errors += more.errors;
  into.seconds += more.seconds;
}

struct Jitter {
  double p50 = 0, p99 = 0, max = 0;
};

Jitter measure_jitter(std::chrono::seconds length) {
  std::vector<double> late;
  const auto end = Steady::now() + length;
  while (Steady::now() < end) {
    const auto due = Steady::now() + 1ms;
    std::this_thread::sleep_until(due);
    late.push_back(std::chrono::duration<double, std::micro>(Steady::now() - due).count());
  }
  return {percentile(late, 0.5), percentile(late, 0.99), percentile(late, 1.0)};
}

void report(const std::string& name, const Result& r, double rate) {
  const double p50 = percentile(r.latencies_us, 0.50), p99 = percentile(r.latencies_us, 0.99);
  std::printf("%-10s %8zu ok %5d errors  %9.0f req/s  p50 %8.1f us  p99 %8.1f us%s\n", name.c_str(),
              r.latencies_us.size(), r.errors, static_cast<double>(r.latencies_us.size()) / r.seconds, p50, p99,
              rate > 0 ? "" : "  (closed loop)");
}

// The observations a histogram gained during some phases (summed over
// several before/after pairs); quantile() is the upper bound of the bucket
// holding it.
struct Delta {
  std::vector<uint64_t> cumulative;
  uint64_t count = 0;

  void add(const metrics::Histogram::Snapshot& before, const metrics::Histogram::Snapshot& after) {
    cumulative.resize(after.cumulative.size());
    for (size_t i = 0; i < after.cumulative.size(); ++i) cumulative[i] += after.cumulative[i] - before.cumulative[i];
    count += after.count - before.count;
  }
  double quantile(const std::vector<double>& bounds, double q) const {
    if (count == 0) return 0;
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(count));
    for (size_t i = 0; i < cumulative.size() && i < bounds.size(); ++i)
      if (cumulative[i] > rank) return bounds[i];
    return bounds.back();
  }
};

std::string chat_body(const std::string& text) {
  return R"({"model":"generate","messages":[{"role":"system","content":"You write short friendly replies."},)"
         R"({"role":"user","content":")" +
         text + R"("}],"temperature":0.7,"max_tokens":64})";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_ai: " << e.what() << "\n";
    return 2;
  }
  log::LogConfig quiet;
  quiet.level = log::Level::error;
  log::init(quiet);
  const double rate = o.n["rate"];
  const int seconds = o.n["seconds"], connections = o.n["connections"], rounds = std::max(1, o.n["rounds"]);

  test::FakeOpenAi fake(1, 1000);
  metrics::Registry registry;
  const int io_threads = std::max(1, o.n["threads"]);
  asio::io_context ioc(io_threads);
  auto work = asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < io_threads; ++i) threads.emplace_back([&] { ioc.run(); });

  db::DatabaseConfig dbc;
  dbc.url = Secret(o.db_url);
  auto database = db::make_pg_pool(ioc.get_executor(), dbc, registry);
  redis::RedisConfig rc;
  rc.host = "127.0.0.1";
  rc.port = o.redis_port;
  auto redis = redis::make_redis_client(ioc.get_executor(), rc, registry);
  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    db::Migrator migrator(*database, db::embedded_migrations());
    co_await migrator.apply();
  }, asio::use_future).get();
  while (!redis->connected()) std::this_thread::sleep_for(10ms);

  auto client = http::make_curl_client(ioc.get_executor(), http::HttpClientConfig{}, registry);
  ai_router::ResponseCache cache(*redis, registry, ai_router::CacheConfig{});
  SystemClock clock;
  ai_router::UsageLog usage(ioc.get_executor(), *database, clock, registry, ai_router::UsageLogConfig{});
  asio::co_spawn(ioc, usage.start(), asio::use_future).get();

  ai_router::Deployment d;
  d.name = d.alias = "deepseek-v3";
  d.endpoint = fake.url("/models/chat/completions");
  d.api_version = "2024-05-01-preview";
  d.auth = ai_router::Auth::api_key;
  d.key = Secret("bench-key");
  d.model = "DeepSeek-V3";
  d.price_in = 1.14;
  d.price_out = 4.56;
  ai_router::Catalog catalog;
  catalog.deployments = {d};
  catalog.routes = {{"generate", {"deepseek-v3"}}};
  auto router = ai_router::make_router({*client, clock, registry, &cache, o.n["usage"] ? &usage : nullptr, nullptr}, catalog,
                                       ai_router::default_router_config());

  http::Router routes;
  ai_router::register_ai_routes(routes, {*router, *database, clock});
  http::ServerConfig sc;
  sc.host = "127.0.0.1";
  sc.port = 0;
  sc.access_log = false;
  auto pipeline = http::build_pipeline(
      {http::request_id(), http::observe(registry, {.access_log = false}), http::security_headers(), http::errors()},
      routes);
  http::Server server(ioc, sc, routes, std::move(pipeline), registry);
  server.start();

  std::printf("bench_ai: rate %.0f req/s, %d s per phase, %d connections; 2 cores shared by upstream, server, "
              "load generator, PostgreSQL and Redis\n",
              rate, seconds, connections);
  const std::string body = chat_body("Hey! Loved your last post, what are you up to this weekend?");
  Target direct{fake.port(), "/models/chat/completions?api-version=2024-05-01-preview", body, {{"api-key", "k"}}};
  Target routed{server.port(), "/api/v1/ai/chat/completions", body, {{"cache-control", "no-store"}}};
  Target cached{server.port(), "/api/v1/ai/chat/completions", body, {}};

  auto& overhead = registry.histogram("huntaze_ai_router_overhead_seconds", "", {}, ai_router::overhead_buckets());

  // Warm up connections, the prepared statements and the cache entry.
  load(routed, 200, 1, 4);
  load(cached, 50, 1, 1);
  auto& server_time = registry.histogram("http_request_duration_seconds", "", {"route", "method"})
                          .with({"/api/v1/ai/chat/completions", "POST"});
  auto& redis_time = registry.histogram("redis_command_duration_seconds", "", {}).with({});

  // The VM's own scheduling noise: how late a thread sleeping 1 ms wakes up.
  // Every latency below contains it; it is what the host adds, not us.
  const Jitter jitter = measure_jitter(std::chrono::seconds(std::max(2, rounds)));
  std::printf("machine    1 ms sleep wakes late by p50 %.0f us, p99 %.0f us, max %.0f us (%d s probe, idle)\n",
              jitter.p50, jitter.p99, jitter.max, std::max(2, rounds));

  // Interleaved rounds (direct, routed, cache_hit, direct, ...) so that the
  // host's noisy moments fall on every path alike rather than on whichever
  // phase happened to run then.
  Result r_direct, r_routed, r_cached;
  Delta routed_server, routed_own, cached_server, cached_redis;
  auto& own = overhead.with({});
  for (int round = 0; round < rounds; ++round) {
    append(r_direct, load(direct, rate, seconds, connections));
    {
      const auto s0 = server_time.snapshot(), o0 = own.snapshot();
      append(r_routed, load(routed, rate, seconds, connections));
      routed_server.add(s0, server_time.snapshot());
      routed_own.add(o0, own.snapshot());
    }
    {
      const auto s0 = server_time.snapshot(), q0 = redis_time.snapshot();
      append(r_cached, load(cached, rate, seconds, connections));
      cached_server.add(s0, server_time.snapshot());
      cached_redis.add(q0, redis_time.snapshot());
    }
  }
  report("direct", r_direct, rate);
  report("routed", r_routed, rate);
  report("cache_hit", r_cached, rate);
  const auto& sb = server_time.bounds();
  std::printf("inside     routed: server time p50 <= %.2f ms, p99 <= %.2f ms\n", routed_server.quantile(sb, 0.5) * 1e3,
              routed_server.quantile(sb, 0.99) * 1e3);
  std::printf("inside     cache_hit: server time p50 <= %.2f ms, p99 <= %.2f ms; Redis GET p50 <= %.2f ms, p99 <= %.2f ms\n",
              cached_server.quantile(sb, 0.5) * 1e3, cached_server.quantile(sb, 0.99) * 1e3,
              cached_redis.quantile(redis_time.bounds(), 0.5) * 1e3,
              cached_redis.quantile(redis_time.bounds(), 0.99) * 1e3);
  Result r_max = load(routed, 0, seconds, connections);
  report("max", r_max, 0);
  Result r_direct_max = load(direct, 0, seconds, connections);
  report("direct_max", r_direct_max, 0);

  const auto bounds = ai_router::overhead_buckets();
  const double in_p50 = routed_own.quantile(bounds, 0.50) * 1e6;
  const double in_p99 = routed_own.quantile(bounds, 0.99) * 1e6;

  const double d50 = percentile(r_direct.latencies_us, 0.5), d99 = percentile(r_direct.latencies_us, 0.99);
  const double o50 = percentile(r_routed.latencies_us, 0.5), o99 = percentile(r_routed.latencies_us, 0.99);
  std::printf("BENCH ai_direct_p50 %.1f us\nBENCH ai_direct_p99 %.1f us\n", d50, d99);
  std::printf("BENCH ai_routed_p50 %.1f us\nBENCH ai_routed_p99 %.1f us\n", o50, o99);
  std::printf("BENCH ai_overhead_p50 %.1f us\nBENCH ai_overhead_p99 %.1f us\n", o50 - d50, o99 - d99);
  std::printf("BENCH ai_router_own_time_p50_le %.0f us\nBENCH ai_router_own_time_p99_le %.0f us\n", in_p50, in_p99);
  std::printf("BENCH ai_cache_hit_p50 %.1f us\nBENCH ai_cache_hit_p99 %.1f us\n",
              percentile(r_cached.latencies_us, 0.5), percentile(r_cached.latencies_us, 0.99));
  std::printf("BENCH machine_wakeup_late_p99 %.0f us\n", jitter.p99);
  std::printf("BENCH ai_routed_max %.0f req/s\nBENCH ai_direct_max %.0f req/s\n",
              static_cast<double>(r_max.latencies_us.size()) / r_max.seconds,
              static_cast<double>(r_direct_max.latencies_us.size()) / r_direct_max.seconds);
  std::fflush(stdout);

  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await server.shutdown(0ms);
    co_await usage.stop();
  }, asio::use_future).get();
  database->close();
  redis->close();
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  return 0;
}
