// bench_ai: what the model router adds to a model call, run by bench/ai.sh
// against a private PostgreSQL (usage log) and Redis (cache). One process:
// the fake OpenAI upstream (test/support/fake_openai.cpp, instant answers,
// one thread), huntaze's HTTP server with the real router, cache and usage
// log (--threads I/O threads, 2 by default), and a load generator (one
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
// omission); percentiles are nearest rank. The overhead is routed minus
// direct at the same rate. "inside" lines split the server's share (headers
// read to response ready) and the Redis round trip from the histograms
// huntaze exports.
//
//   bench_ai --db <url> --redis-port <port> [--rate 1000] [--seconds 2] [--rounds 5]
//            [--connections 32] [--threads 2] [--usage 0|1]
//
//   --threads  the server's I/O threads (the router, cache and usage log share them)
//   --usage    1: every routed call queues a usage row, written in batches
//              (as in production); 0: no usage log at all
//
// Prints a summary, then one `BENCH <name> <value> <unit>` line per figure.
// Exits 1 when the run is not to be trusted: a request failed, or a cache_hit
// answer was not served from the cache (X-Huntaze-Cache: hit); 2 on bad
// options.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ai_router/api_routes.hpp"
#include "ai_router/make_router.hpp"
#include "ai_router/response_cache.hpp"
#include "ai_router/router_metrics.hpp"
#include "ai_router/usage_log.hpp"
#include "bench_util.hpp"
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

constexpr auto kRedisConnectLimit = 10s;

bench::Options parse(int argc, char** argv) {
  bench::Options o("bench_ai",
                   "--db <url> --redis-port <port> [--rate N] [--seconds N] [--rounds N] [--connections N] "
                   "[--threads N] [--usage 0|1]");
  o.text("db", true);
  o.number("redis-port", 0, 1, 65535);
  o.number("rate", 1000, 1);
  o.number("seconds", 2, 1);
  o.number("rounds", 5, 1);
  o.number("connections", 32, 1);
  o.number("threads", 2, 1);
  o.number("usage", 1, 0, 1);
  o.parse(argc, argv);
  if (o["redis-port"] == 0) o.usage("--redis-port is required");
  return o;
}

struct Target {
  int port;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Result {
  std::vector<double> latencies_us;  // of successful requests; sorted once the phase is over
  int errors = 0;
  int64_t cache_hits = 0;  // successful answers saying X-Huntaze-Cache: hit
  double seconds = 0;
};

// One keep-alive connection sending requests from a shared schedule: request
// k is due at start + k / rate (or at once when rate is 0: closed loop).
asio::awaitable<void> client(const Target& t, Steady::time_point start, double rate, Steady::time_point end,
                             std::atomic<int64_t>& next, Result& out, std::mutex& mutex) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(t.port));
  auto [ec] = co_await stream.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    std::lock_guard lock(mutex);
    ++out.errors;
    co_return;
  }
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
  int64_t hits = 0;
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
    if (res["x-huntaze-cache"] == "hit") ++hits;
  }
  std::lock_guard lock(mutex);
  out.latencies_us.insert(out.latencies_us.end(), mine.begin(), mine.end());
  out.errors += errors;
  out.cache_hits += hits;
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
  std::sort(out.latencies_us.begin(), out.latencies_us.end());
  return out;
}

void append(Result& into, const Result& more) {
  into.latencies_us.insert(into.latencies_us.end(), more.latencies_us.begin(), more.latencies_us.end());
  std::sort(into.latencies_us.begin(), into.latencies_us.end());
  into.errors += more.errors;
  into.cache_hits += more.cache_hits;
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
  std::sort(late.begin(), late.end());
  return {bench::percentile(late, 50), bench::percentile(late, 99), bench::percentile(late, 100)};
}

void report(const std::string& name, const Result& r, double rate) {
  const double p50 = bench::percentile(r.latencies_us, 50), p99 = bench::percentile(r.latencies_us, 99);
  std::printf("%-10s %8zu ok %5d errors  %9.0f req/s  p50 %8.1f us  p99 %8.1f us%s\n", name.c_str(),
              r.latencies_us.size(), r.errors, static_cast<double>(r.latencies_us.size()) / r.seconds, p50, p99,
              rate > 0 ? "" : "  (closed loop)");
}

// The observations a histogram gained during some phases (summed over
// several before/after pairs); quantile() is the upper bound of the bucket
// holding the nearest-rank observation, as bench::percentile() ranks them.
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
    const auto rank = bench::nearest_rank(q * 100, count);
    for (size_t i = 0; i < cumulative.size() && i < bounds.size(); ++i)
      if (cumulative[i] >= rank) return bounds[i];
    return bounds.back();
  }
};

std::string chat_body(const std::string& text) {
  return R"({"model":"generate","messages":[{"role":"system","content":"You write short friendly replies."},)"
         R"({"role":"user","content":")" +
         text + R"("}],"temperature":0.7,"max_tokens":64})";
}

// Every phase but the host probe: the router's paths with the server, cache
// and usage log on `ioc`. Returns the exit code.
int run(asio::io_context& ioc, db::Database& database, redis::Redis& redis, metrics::Registry& registry,
        test::FakeOpenAi& fake, const bench::Options& o) {
  const double rate = o["rate"];
  const int seconds = o["seconds"], connections = o["connections"], rounds = o["rounds"];

  auto client = http::make_curl_client(ioc.get_executor(), http::HttpClientConfig{}, registry);
  ai_router::ResponseCache cache(redis, registry, ai_router::CacheConfig{});
  SystemClock clock;
  // --usage 0: no usage log at all, neither rows nor its flush loop.
  std::optional<ai_router::UsageLog> usage;
  if (o["usage"] == 1) {
    usage.emplace(ioc.get_executor(), database, clock, registry, ai_router::UsageLogConfig{});
    asio::co_spawn(ioc, usage->start(), asio::use_future).get();
  }

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
  auto router = ai_router::make_router({*client, clock, registry, &cache, usage ? &*usage : nullptr, nullptr}, catalog,
                                       ai_router::default_router_config());

  http::Router routes;
  ai_router::register_ai_routes(routes, {*router, database, clock});
  http::ServerConfig sc;
  sc.host = "127.0.0.1";
  sc.port = 0;
  auto pipeline = http::build_pipeline(
      {http::request_id(), http::observe(registry, {.access_log = false}), http::security_headers(), http::errors()},
      routes);
  http::Server server(ioc, sc, routes, std::move(pipeline), registry);
  server.start();

  const unsigned cores = std::thread::hardware_concurrency();
  std::printf("bench_ai: rate %.0f req/s, %d s per phase, %d rounds, %d connections, %d server I/O threads, usage log "
              "%s; %s cores shared by upstream, server, load generator, PostgreSQL and Redis\n",
              rate, seconds, rounds, connections, o["threads"], usage ? "on" : "off",
              cores > 0 ? std::to_string(cores).c_str() : "?");
  const std::string body = chat_body("Hey! Loved your last post, what are you up to this weekend?");
  Target direct{fake.port(), "/models/chat/completions?api-version=2024-05-01-preview", body, {{"api-key", "k"}}};
  Target routed{server.port(), "/api/v1/ai/chat/completions", body, {{"cache-control", "no-store"}}};
  Target cached{server.port(), "/api/v1/ai/chat/completions", body, {}};

  auto& overhead = registry.histogram("huntaze_ai_router_overhead_seconds", "", {}, ai_router::overhead_buckets());

  // Warm up connections, the prepared statements and the cache entry (its
  // first request is a miss, so hits are not counted here).
  Result warm_up = load(routed, 200, 1, 4);
  append(warm_up, load(cached, 50, 1, 1));
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

  asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
    co_await server.shutdown(0ms);
    if (usage) co_await usage->stop();
  }, asio::use_future).get();

  // A run with failed requests, or whose cache_hit phase went upstream, has
  // no figures worth keeping.
  const int errors = warm_up.errors + r_direct.errors + r_routed.errors + r_cached.errors + r_max.errors +
                     r_direct_max.errors;
  const auto cache_answers = static_cast<int64_t>(r_cached.latencies_us.size());
  const int64_t not_hits = cache_answers - r_cached.cache_hits;
  if (errors > 0 || not_hits > 0 || cache_answers == 0) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "bench_ai: broken run, no figures: %d requests failed; %lld of %lld cache_hit answers were not "
                 "served from the cache (X-Huntaze-Cache: hit)\n",
                 errors, static_cast<long long>(not_hits), static_cast<long long>(cache_answers));
    return 1;
  }

  const auto bounds = ai_router::overhead_buckets();
  const double in_p50 = routed_own.quantile(bounds, 0.50) * 1e6;
  const double in_p99 = routed_own.quantile(bounds, 0.99) * 1e6;

  const double d50 = bench::percentile(r_direct.latencies_us, 50), d99 = bench::percentile(r_direct.latencies_us, 99);
  const double o50 = bench::percentile(r_routed.latencies_us, 50), o99 = bench::percentile(r_routed.latencies_us, 99);
  std::printf("BENCH ai_direct_p50 %.1f us\nBENCH ai_direct_p99 %.1f us\n", d50, d99);
  std::printf("BENCH ai_routed_p50 %.1f us\nBENCH ai_routed_p99 %.1f us\n", o50, o99);
  std::printf("BENCH ai_overhead_p50 %.1f us\nBENCH ai_overhead_p99 %.1f us\n", o50 - d50, o99 - d99);
  std::printf("BENCH ai_router_own_time_p50_le %.0f us\nBENCH ai_router_own_time_p99_le %.0f us\n", in_p50, in_p99);
  std::printf("BENCH ai_cache_hit_p50 %.1f us\nBENCH ai_cache_hit_p99 %.1f us\n",
              bench::percentile(r_cached.latencies_us, 50), bench::percentile(r_cached.latencies_us, 99));
  std::printf("BENCH machine_wakeup_late_p99 %.0f us\n", jitter.p99);
  std::printf("BENCH ai_routed_max %.0f req/s\nBENCH ai_direct_max %.0f req/s\n",
              static_cast<double>(r_max.latencies_us.size()) / r_max.seconds,
              static_cast<double>(r_direct_max.latencies_us.size()) / r_direct_max.seconds);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Options o = parse(argc, argv);
  log::LogConfig quiet;
  quiet.level = log::Level::error;
  log::init(quiet);

  test::FakeOpenAi fake(1, 1000);
  metrics::Registry registry;
  const int io_threads = o["threads"];
  asio::io_context ioc(io_threads);
  auto work = asio::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < io_threads; ++i) threads.emplace_back([&] { ioc.run(); });

  db::DatabaseConfig dbc;
  dbc.url = Secret(o.text_value("db"));
  auto database = db::make_pg_pool(ioc.get_executor(), dbc, registry);
  redis::RedisConfig rc;
  rc.host = "127.0.0.1";
  rc.port = o["redis-port"];
  auto redis = redis::make_redis_client(ioc.get_executor(), rc, registry);

  int code = 0;
  try {
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> {
      db::Migrator migrator(*database, db::embedded_migrations());
      co_await migrator.apply();
    }, asio::use_future).get();
    const auto give_up = Steady::now() + kRedisConnectLimit;
    while (!redis->connected() && Steady::now() < give_up) std::this_thread::sleep_for(10ms);
    if (!redis->connected())
      throw std::runtime_error("Redis at 127.0.0.1:" + std::to_string(rc.port) + " not connected after " +
                               std::to_string(std::chrono::seconds(kRedisConnectLimit).count()) + " s");
    code = run(ioc, *database, *redis, registry, fake, o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "bench_ai: " << e.what() << "\n";
    code = 1;
  }
  database->close();
  redis->close();
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  return code;
}
