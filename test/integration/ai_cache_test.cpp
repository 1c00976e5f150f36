// The model router's response cache against real Redis: storage, tenant
// separation, single flight in one process and across two, and degrading to
// "no cache" when Redis is down.
#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <future>
#include <stdexcept>

#include "ai_router/cache_key.hpp"
#include "ai_router/response_cache.hpp"
#include "ai_router/single_flight.hpp"
#include "redis_fixture.hpp"
#include "support/io_threads.hpp"

using namespace huntaze;
using namespace huntaze::ai_router;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

using Produce = std::function<asio::awaitable<Completion>()>;

Completion answer(const std::string& content) {
  Completion c;
  c.id = "chatcmpl-" + content.substr(0, 8);
  c.content = content;
  c.reasoning = "because";
  c.finish_reason = "stop";
  c.alias = "deepseek-v3";
  c.deployment = "azure-eastus-deepseek";
  c.model = "DeepSeek-V3-0324";
  c.usage = {120, 34};
  c.cost_micros = 77;
  c.attempts = 2;
  c.latency = 900ms;
  c.time_to_first_token = 150ms;
  return c;
}

// A key no other test or run shares, made the way the router makes it.
std::string fresh_key(const std::string& workspace = test::unique_key("ws")) {
  AiRequest r;
  r.workspace = workspace;
  r.messages = {{"user", "hello", {}}};
  return cache_key(r, "generate");
}

double counter(metrics::Registry& m, const std::string& name, const std::string& label, std::string_view value) {
  return m.counter(name, "", {label}).with({value}).value();
}
double lookups(metrics::Registry& m, std::string_view result) {
  return counter(m, "huntaze_ai_cache_lookups_total", "result", result);
}
double stores(metrics::Registry& m, std::string_view result) {
  return counter(m, "huntaze_ai_cache_stores_total", "result", result);
}
double joined(metrics::Registry& m, std::string_view scope) {
  return counter(m, "huntaze_ai_single_flight_joined_total", "scope", scope);
}

// Sleeps in small steps until `done` holds (or about 10 s pass): lets a
// produce() hold its flight open until the test has set the scene.
asio::awaitable<void> until(std::function<bool()> done) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  for (int i = 0; i < 2000 && !done(); ++i) {
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// A flight held open: the leader's produce() runs until released, and a
// follower's produce() counts the calls it should never get (the flight
// answers for it).
struct HeldFlight {
  Produce leader(const std::string& content) {
    return [this, content]() -> asio::awaitable<Completion> {
      entered = true;
      co_await until(is_released);
      co_return answer(content);
    };
  }
  Produce follower() {
    return [this]() -> asio::awaitable<Completion> {
      ++follower_calls;
      co_return answer("should not run");
    };
  }
  std::atomic<bool> entered{false};
  std::atomic<bool> released{false};
  std::atomic<int> follower_calls{0};
  const std::function<bool()> is_released = [this] { return released.load(); };
};

bool exists(test::RedisFixture& f, const std::string& key) {
  return f.io.block(f.redis->command({"EXISTS", key})).integer == 1;
}

}  // namespace

TEST_CASE("ai cache: put then get returns every stored field, with the TTL set", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  CHECK_FALSE(f.io.block(cache.get(key)));
  CHECK(lookups(f.registry, "miss") == 1);

  const Completion stored = answer("Salut, merci pour ton message \xF0\x9F\x98\x8A \"quoted\"\n");
  f.io.block(cache.put(key, stored, 60s));
  CHECK(stores(f.registry, "ok") == 1);

  const auto got = f.io.block(cache.get(key));
  REQUIRE(got);
  CHECK(lookups(f.registry, "hit") == 1);
  CHECK(got->id == stored.id);
  CHECK(got->content == stored.content);
  CHECK(got->reasoning == stored.reasoning);
  CHECK(got->finish_reason == stored.finish_reason);
  CHECK(got->alias == stored.alias);
  CHECK(got->deployment == stored.deployment);
  CHECK(got->model == stored.model);
  CHECK(got->usage.input_tokens == 120);
  CHECK(got->usage.output_tokens == 34);
  // The per-call fields describe the call that produced it, not this read.
  CHECK(got->cache_hit);
  CHECK(got->cost_micros == 0);
  CHECK(got->attempts == 0);
  CHECK(got->latency == 0us);
  CHECK(got->time_to_first_token == 0us);

  const auto pttl = f.io.block(f.redis->command({"PTTL", key})).integer;
  CHECK(pttl > 0);
  CHECK(pttl <= 60'000);
}

TEST_CASE("ai cache: values over max_value_bytes, a zero TTL or a disabled cache are not stored", "[ai_cache]") {
  test::RedisFixture f;
  const auto key = fresh_key();
  SECTION("too large") {
    ResponseCache cache(*f.redis, f.registry, {.max_value_bytes = 1000});
    f.io.block(cache.put(key, answer(std::string(2000, 'x')), 60s));
    CHECK(stores(f.registry, "skipped") == 1);
    f.io.block(cache.put(key, answer(std::string(500, 'x')), 60s));
    CHECK(stores(f.registry, "ok") == 1);
    CHECK(exists(f, key));
  }
  SECTION("zero ttl") {
    ResponseCache cache(*f.redis, f.registry, {});
    f.io.block(cache.put(key, answer("short-lived"), 0s));
    CHECK(stores(f.registry, "skipped") == 1);
    CHECK_FALSE(exists(f, key));
  }
  SECTION("disabled") {
    ResponseCache cache(*f.redis, f.registry, {.enabled = false});
    f.io.block(cache.put(key, answer("not kept"), 60s));
    CHECK_FALSE(exists(f, key));
    f.io.block(f.redis->command({"SET", key, encode_cached(answer("there anyway"))}));
    CHECK_FALSE(f.io.block(cache.get(key)));
    std::atomic<int> calls{0};
    Produce produce = [&]() -> asio::awaitable<Completion> {
      ++calls;
      co_return answer("fresh");
    };
    auto flight = f.io.block(cache.once(key, produce, 1s));
    CHECK(flight.leader);
    CHECK(flight.completion.content == "fresh");
    CHECK(calls == 1);
    CHECK_FALSE(exists(f, key + ":lock"));
  }
  f.io.block(f.redis->command({"DEL", key}));
}

TEST_CASE("ai cache: one workspace never reads another's answer", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key_a = fresh_key(test::unique_key("workspace-a"));
  const auto key_b = fresh_key(test::unique_key("workspace-b"));
  REQUIRE(key_a != key_b);

  f.io.block(cache.put(key_a, answer("for A only"), 60s));
  CHECK_FALSE(f.io.block(cache.get(key_b)));
  f.io.block(cache.put(key_b, answer("for B only"), 60s));
  const auto a = f.io.block(cache.get(key_a));
  const auto b = f.io.block(cache.get(key_b));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->content == "for A only");
  CHECK(b->content == "for B only");
}

TEST_CASE("ai cache: 50 concurrent identical requests make one upstream call", "[ai_cache]") {
  test::RedisFixture f;  // two I/O threads
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  constexpr int kCallers = 50;
  std::atomic<int> calls{0};
  // Holds the flight open until every other caller has joined it.
  Produce produce = [&]() -> asio::awaitable<Completion> {
    ++calls;
    co_await until([&] { return joined(f.registry, "process") >= kCallers - 1; });
    Completion c = answer("the one answer");
    co_await cache.put(key, c, 60s);
    co_return c;
  };
  std::vector<std::future<Flight>> flights;
  for (int i = 0; i < kCallers; ++i) flights.push_back(f.io.spawn(cache.once(key, produce, 5s)));

  int leaders = 0;
  for (auto& fl : flights) {
    const Flight flight = fl.get();
    leaders += flight.leader ? 1 : 0;
    CHECK(flight.completion.content == "the one answer");
    CHECK(flight.completion.id == answer("the one answer").id);
  }
  CHECK(calls == 1);
  CHECK(leaders == 1);
  CHECK(joined(f.registry, "process") == kCallers - 1);
  CHECK_FALSE(exists(f, key + ":lock"));  // released after produce()
  CHECK(f.io.block(cache.get(key)));       // stored by produce()
}

TEST_CASE("ai cache: an exception from produce() reaches every caller of the flight", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  constexpr int kCallers = 50;
  std::atomic<int> calls{0};
  Produce produce = [&]() -> asio::awaitable<Completion> {
    ++calls;
    co_await until([&] { return joined(f.registry, "process") >= kCallers - 1; });
    throw AiError(AiError::Kind::unavailable, "every deployment failed");
  };
  std::vector<std::future<Flight>> flights;
  for (int i = 0; i < kCallers; ++i) flights.push_back(f.io.spawn(cache.once(key, produce, 5s)));

  int failures = 0;
  for (auto& fl : flights) {
    try {
      fl.get();
    } catch (const AiError& e) {
      CHECK(e.kind() == AiError::Kind::unavailable);
      CHECK(std::string(e.what()) == "every deployment failed");
      ++failures;
    }
  }
  CHECK(failures == kCallers);
  CHECK(calls == 1);
  CHECK_FALSE(exists(f, key + ":lock"));  // released after a failure too

  // The flight is over: the next caller runs produce() again.
  Produce ok = [&]() -> asio::awaitable<Completion> {
    ++calls;
    co_return answer("second try");
  };
  auto again = f.io.block(cache.once(key, ok, 5s));
  CHECK(again.leader);
  CHECK(again.completion.content == "second try");
  CHECK(calls == 2);
}

TEST_CASE("ai cache: another instance waits for the lock holder's answer instead of calling upstream", "[ai_cache]") {
  // Two clients with their own connections, registries and threads: as two processes would be.
  test::RedisFixture a;
  test::RedisFixture b;
  const CacheConfig config{.poll_every = 20ms};
  ResponseCache cache_a(*a.redis, a.registry, config);
  ResponseCache cache_b(*b.redis, b.registry, config);
  const auto key = fresh_key();

  std::atomic<bool> b_started{false};
  std::atomic<bool> b_done{false};
  Produce slow = [&]() -> asio::awaitable<Completion> {
    co_await until([&] { return b_started.load(); });
    // Let B look a few times and find nothing yet.
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    timer.expires_after(200ms);
    co_await timer.async_wait(asio::use_awaitable);
    Completion c = answer("answered by A");
    co_await cache_a.put(key, c, 60s);
    // Keep the lock until B has its answer: B can only have read it.
    co_await until([&] { return b_done.load(); });
    co_return c;
  };
  std::atomic<int> b_calls{0};
  Produce b_produce = [&]() -> asio::awaitable<Completion> {
    ++b_calls;
    co_return answer("answered by B");
  };

  auto fa = a.io.spawn(cache_a.once(key, slow, 10s));
  REQUIRE(test::eventually([&] { return exists(a, key + ":lock"); }));
  auto fb = b.io.spawn(cache_b.once(key, b_produce, 10s));
  b_started = true;
  const Flight from_b = fb.get();
  b_done = true;
  const Flight from_a = fa.get();

  CHECK(b_calls == 0);
  CHECK_FALSE(from_b.leader);
  CHECK(from_b.completion.content == "answered by A");
  CHECK(from_b.completion.model == "DeepSeek-V3-0324");
  CHECK(joined(b.registry, "instances") == 1);
  CHECK(from_a.leader);
  CHECK(from_a.completion.content == "answered by A");
  CHECK(joined(a.registry, "instances") == 0);
  CHECK_FALSE(exists(a, key + ":lock"));
}

TEST_CASE("ai cache: a dead lock holder delays a follower only until its lock or the wait runs out", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {.poll_every = 20ms});
  const auto key = fresh_key();
  const auto lock = key + ":lock";
  std::atomic<int> calls{0};
  Produce produce = [&]() -> asio::awaitable<Completion> {
    ++calls;
    co_return answer("produced anyway");
  };

  SECTION("the lock expires") {
    f.io.block(f.redis->command({"SET", lock, "dead-instance", "PX", "300"}));
    const auto flight = f.io.block(cache.once(key, produce, 30s));
    CHECK(flight.leader);
    CHECK(flight.completion.content == "produced anyway");
    CHECK(calls == 1);
    CHECK_FALSE(exists(f, lock));  // taken over, then released
  }
  SECTION("the wait runs out first") {
    f.io.block(f.redis->command({"SET", lock, "dead-instance", "PX", "60000"}));
    const auto flight = f.io.block(cache.once(key, produce, 200ms));
    CHECK(flight.leader);
    CHECK(calls == 1);
    // Not ours: left alone.
    CHECK(f.io.block(f.redis->command({"GET", lock})).str == "dead-instance");
    f.io.block(f.redis->command({"DEL", lock}));
  }
  CHECK(joined(f.registry, "instances") == 0);
}

TEST_CASE("ai cache: with Redis down the cache is skipped and requests still get answers", "[ai_cache]") {
  test::RedisProcess server;
  test::RedisFixture f(server.config());
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  f.io.block(cache.put(key, answer("before the outage"), 60s));
  REQUIRE(f.io.block(cache.get(key)));

  server.stop();
  REQUIRE(test::eventually([&] { return !f.redis->connected(); }));

  CHECK_FALSE(f.io.block(cache.get(key)));
  CHECK(lookups(f.registry, "error") == 1);
  CHECK_NOTHROW(f.io.block(cache.put(key, answer("during the outage"), 60s)));
  CHECK(stores(f.registry, "error") == 1);
  std::atomic<int> calls{0};
  Produce produce = [&]() -> asio::awaitable<Completion> {
    ++calls;
    Completion c = answer("straight from upstream");
    co_await cache.put(key, c, 60s);
    co_return c;
  };
  const auto flight = f.io.block(cache.once(key, produce, 5s));
  CHECK(flight.leader);
  CHECK(flight.completion.content == "straight from upstream");
  CHECK(calls == 1);
  CHECK(stores(f.registry, "error") == 2);
}

TEST_CASE("ai cache: an unreadable stored value is a miss and is deleted", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  SECTION("not JSON") {
    const std::string garbage("\x00\xff garbage", 10);
    f.io.block(f.redis->command({"SET", key, garbage}));
  }
  SECTION("empty") { f.io.block(f.redis->command({"SET", key, ""})); }
  SECTION("JSON of another shape") { f.io.block(f.redis->command({"SET", key, R"({"v":1,"content":42})"})); }
  SECTION("another format version") {
    auto text = encode_cached(answer("old"));
    text.replace(text.find("\"v\":1"), 5, "\"v\":9");
    f.io.block(f.redis->command({"SET", key, text}));
  }
  SECTION("not a string") { f.io.block(f.redis->command({"RPUSH", key, "x"})); }
  REQUIRE(exists(f, key));
  CHECK_FALSE(f.io.block(cache.get(key)));
  CHECK(lookups(f.registry, "error") == 1);
  CHECK_FALSE(exists(f, key));
  // And the next answer can be stored there.
  f.io.block(cache.put(key, answer("good"), 60s));
  const auto got = f.io.block(cache.get(key));
  REQUIRE(got);
  CHECK(got->content == "good");
}

TEST_CASE("ai cache: a cancelled follower stops waiting while the flight goes on", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  HeldFlight held;
  const Produce slow = held.leader("eventually");
  const Produce other = held.follower();

  auto leader = f.io.spawn(cache.once(key, slow, 5s));
  REQUIRE(test::eventually([&] { return held.entered.load(); }));
  // The signal is emitted on the strand the cancelled coroutine runs on.
  auto strand = asio::make_strand(f.io.executor());
  asio::cancellation_signal cancel;
  auto cancelled =
      asio::co_spawn(strand, cache.once(key, other, 5s), asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  auto patient = f.io.spawn(cache.once(key, other, 5s));
  REQUIRE(test::eventually([&] { return joined(f.registry, "process") == 2; }));
  asio::post(strand, [&] { cancel.emit(asio::cancellation_type::terminal); });
  try {
    cancelled.get();
    FAIL("a cancelled follower returned");
  } catch (const boost::system::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
  held.released = true;
  const auto led = leader.get();
  const auto waited = patient.get();
  CHECK(led.leader);
  CHECK_FALSE(waited.leader);
  CHECK(waited.completion.content == "eventually");
  CHECK(held.follower_calls == 0);
}

TEST_CASE("ai cache: when the leader is cancelled a follower takes over and the lock is released", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  std::atomic<bool> entered{false};
  Produce forever = [&]() -> asio::awaitable<Completion> {
    entered = true;
    co_await until([] { return false; });
    co_return answer("never");
  };
  Produce takeover = [&]() -> asio::awaitable<Completion> {
    co_return answer("taken over");
  };

  auto strand = asio::make_strand(f.io.executor());
  asio::cancellation_signal cancel;
  auto leader = asio::co_spawn(strand, cache.once(key, forever, 5s),
                               asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  REQUIRE(test::eventually([&] { return entered.load(); }));
  REQUIRE(exists(f, key + ":lock"));

  SECTION("alone: the lock goes with it") {
    asio::post(strand, [&] { cancel.emit(asio::cancellation_type::terminal); });
    REQUIRE_THROWS_AS(leader.get(), boost::system::system_error);
    CHECK_FALSE(exists(f, key + ":lock"));
  }
  SECTION("with a follower: it runs its own produce()") {
    auto follower = f.io.spawn(cache.once(key, takeover, 5s));
    REQUIRE(test::eventually([&] { return joined(f.registry, "process") == 1; }));
    asio::post(strand, [&] { cancel.emit(asio::cancellation_type::terminal); });
    REQUIRE_THROWS_AS(leader.get(), boost::system::system_error);
    const auto flight = follower.get();
    CHECK(flight.leader);
    CHECK(flight.completion.content == "taken over");
    CHECK(joined(f.registry, "instances") == 0);
    CHECK_FALSE(exists(f, key + ":lock"));
  }
}

TEST_CASE("ai cache: a follower whose wait runs out gets a deadline error while the flight goes on", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {});
  const auto key = fresh_key();
  HeldFlight held;
  const Produce slow = held.leader("in the end");
  const Produce other = held.follower();

  auto leader = f.io.spawn(cache.once(key, slow, 10s));
  REQUIRE(test::eventually([&] { return held.entered.load(); }));
  // Its own deadline is much shorter than the leader's: it does not wait for it.
  try {
    f.io.block(cache.once(key, other, 50ms));
    FAIL("the follower returned");
  } catch (const AiError& e) {
    CHECK(e.kind() == AiError::Kind::deadline);
  }
  CHECK(joined(f.registry, "process") == 1);
  auto patient = f.io.spawn(cache.once(key, other, 10s));
  REQUIRE(test::eventually([&] { return joined(f.registry, "process") == 2; }));
  held.released = true;
  const auto led = leader.get();
  const auto waited = patient.get();
  CHECK(led.leader);
  CHECK(led.completion.content == "in the end");
  CHECK_FALSE(waited.leader);
  CHECK(waited.completion.content == "in the end");
  CHECK(held.follower_calls == 0);
}

TEST_CASE("ai cache: a stored value over max_value_bytes is not parsed, and is deleted", "[ai_cache]") {
  test::RedisFixture f;
  ResponseCache cache(*f.redis, f.registry, {.max_value_bytes = 1000});
  const auto key = fresh_key();
  // Well-formed, but larger than this instance would ever store (another
  // instance with a larger limit, or someone else).
  f.io.block(f.redis->command({"SET", key, encode_cached(answer(std::string(5000, 'x')))}));
  CHECK_FALSE(f.io.block(cache.get(key)));
  CHECK(lookups(f.registry, "error") == 1);
  CHECK_FALSE(exists(f, key));
  // Within the limit it is read as usual.
  f.io.block(f.redis->command({"SET", key, encode_cached(answer("short"))}));
  const auto got = f.io.block(cache.get(key));
  REQUIRE(got);
  CHECK(got->content == "short");
  f.io.block(f.redis->command({"DEL", key}));
}

TEST_CASE("ai cache: single flight keeps no entry once a flight is over, however it ended", "[ai_cache]") {
  test::IoThreads io;
  std::atomic<int> joins{0};
  SingleFlight<int> flights([&] { ++joins; });
  using IntProduce = std::function<asio::awaitable<int>()>;
  std::atomic<bool> release{false};
  IntProduce slow = [&]() -> asio::awaitable<int> {
    co_await until([&] { return release.load(); });
    co_return 7;
  };
  IntProduce failing = [&]() -> asio::awaitable<int> {
    co_await until([&] { return release.load(); });
    throw std::runtime_error("upstream failed");
  };
  IntProduce unused = []() -> asio::awaitable<int> { co_return -1; };

  SECTION("answered") {
    auto leader = io.spawn(flights.run("k", slow));
    REQUIRE(test::eventually([&] { return flights.in_flight() == 1; }));
    auto follower = io.spawn(flights.run("k", unused));
    REQUIRE(test::eventually([&] { return joins == 1; }));
    release = true;
    const auto led = leader.get();
    const auto got = follower.get();
    REQUIRE(led);
    REQUIRE(got);
    CHECK(led->leader);
    CHECK(led->value == 7);
    CHECK_FALSE(got->leader);
    CHECK(got->value == 7);
  }
  SECTION("failed") {
    auto leader = io.spawn(flights.run("k", failing));
    REQUIRE(test::eventually([&] { return flights.in_flight() == 1; }));
    auto follower = io.spawn(flights.run("k", unused));
    REQUIRE(test::eventually([&] { return joins == 1; }));
    release = true;
    CHECK_THROWS_AS(leader.get(), std::runtime_error);
    CHECK_THROWS_AS(follower.get(), std::runtime_error);
  }
  SECTION("a follower out of time") {
    auto leader = io.spawn(flights.run("k", slow));
    REQUIRE(test::eventually([&] { return flights.in_flight() == 1; }));
    const auto gave_up = io.block(flights.run("k", unused, std::chrono::steady_clock::now() + 20ms));
    CHECK_FALSE(gave_up);
    CHECK(flights.in_flight() == 1);  // the flight goes on
    release = true;
    const auto led = leader.get();
    REQUIRE(led);
    CHECK(led->value == 7);
  }
  SECTION("the leader cancelled") {
    auto strand = asio::make_strand(io.executor());
    asio::cancellation_signal cancel;
    auto leader =
        asio::co_spawn(strand, flights.run("k", slow), asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
    REQUIRE(test::eventually([&] { return flights.in_flight() == 1; }));
    asio::post(strand, [&] { cancel.emit(asio::cancellation_type::terminal); });
    CHECK_THROWS_AS(leader.get(), boost::system::system_error);
  }
  CHECK(flights.in_flight() == 0);
}
