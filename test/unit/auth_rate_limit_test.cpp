// The auth rate limiter without Redis: the GCRA arithmetic of the in-process
// store, the decision reported to clients, the bounded memory, the
// `auth.rate_limits` section, the HTTP headers and 429, and the fallback a
// RateLimiter takes when its Redis cannot answer (a fake that always fails).
// The Redis script and its agreement with this arithmetic are in
// test/integration/auth_rate_limit_test.cpp.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "auth/rate_limit_config.hpp"
#include "auth/rate_limit_gcra.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/rate_limiter.hpp"
#include "huntaze/core/clock.hpp"
#include "huntaze/core/config.hpp"
#include "huntaze/core/metrics.hpp"
#include "support/config_parse.hpp"
#include "support/harness.hpp"

using namespace huntaze;
using namespace huntaze::auth;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kT0 = 2'000'000'000'000'000;  // µs since the epoch (2033)
constexpr int64_t kSecond = 1'000'000;

// One key through the local store and the shared reporting.
struct OneKey {
  explicit OneKey(int64_t limit, int64_t period_ms) : params{gcra::params_of(limit, period_ms)} {}
  RateDecision at(int64_t now_us, int64_t cost = 1) {
    const std::vector<std::string> keys{"k"};
    return summarize(params, store.check(keys, params, cost, now_us), cost);
  }
  gcra::LocalGcra store;
  std::vector<gcra::Params> params;
};

RateLimitConfig parse(const std::string& yaml) {
  return test::parse_section(yaml, "rate_limits", parse_rate_limit_config);
}

std::string error_of(const std::string& yaml) {
  return test::config_error([&] { parse(yaml); });
}

// A Redis that cannot answer: every call fails as the real client does
// during an outage (or, with `error`, as a server answering with an error).
class DownRedis final : public redis::Redis {
 public:
  bool error = false;
  int evals = 0;
  asio::awaitable<redis::Reply> command(redis::Command) override { throw redis::RedisUnavailable("down"); }
  asio::awaitable<std::vector<redis::Reply>> pipeline(std::vector<redis::Command>) override {
    throw redis::RedisUnavailable("down");
  }
  asio::awaitable<redis::Reply> eval(const redis::Script&, std::vector<std::string>,
                                     std::vector<std::string>) override {
    ++evals;
    if (error) throw redis::RedisError("OOM command not allowed when used memory > 'maxmemory'");
    throw redis::RedisUnavailable("redis unavailable");
    co_return redis::Reply{};
  }
  asio::awaitable<std::unique_ptr<redis::Subscription>> subscribe(std::vector<std::string>) override {
    throw redis::RedisUnavailable("down");
  }
  bool connected() const override { return false; }
  void close() override {}
};

RateDecision check(RateLimiter& limiter, std::vector<RateKey> keys, int64_t cost = 1) {
  return test::run<RateDecision>([&]() { return limiter.check(keys, cost); });
}

}  // namespace

TEST_CASE("auth rate limit: GCRA parameters round the interval up and keep a burst of exactly limit",
          "[auth][rate_limit]") {
  const auto p = gcra::params_of(100, 60'000);
  CHECK(p.interval_us == 600'000);
  CHECK(p.tolerance_us == 60 * kSecond);
  const auto odd = gcra::params_of(7, 60'000);  // 8,571,428.57 µs
  CHECK(odd.interval_us == 8'571'429);
  CHECK(odd.tolerance_us == 7 * 8'571'429);
  CHECK_THROWS_AS(gcra::params_of(0, 60'000), std::invalid_argument);
  CHECK_THROWS_AS(gcra::params_of(5, 0), std::invalid_argument);

  OneKey k(7, 60'000);
  for (int i = 0; i < 7; ++i) CHECK(k.at(kT0).allowed);
  CHECK_FALSE(k.at(kT0).allowed);
}

TEST_CASE("auth rate limit: a burst of limit, then one request per period over limit", "[auth][rate_limit]") {
  OneKey k(3, 3'600'000);  // 3 an hour: one every 20 minutes
  const int64_t minute = 60 * kSecond;

  auto d = k.at(kT0);
  CHECK(d.allowed);
  CHECK(d.limit == 3);
  CHECK(d.remaining == 2);
  CHECK(d.reset == 20min);
  CHECK(d.retry_after == 0ms);
  CHECK_FALSE(d.local);  // the store alone does not know; RateLimiter sets it
  CHECK(k.at(kT0).remaining == 1);
  d = k.at(kT0);
  CHECK(d.allowed);
  CHECK(d.remaining == 0);
  CHECK(d.reset == 60min);

  d = k.at(kT0 + 5 * minute);
  CHECK_FALSE(d.allowed);
  CHECK(d.limit == 3);
  CHECK(d.remaining == 0);
  CHECK(d.retry_after == 15min);  // the first slot frees 20 minutes after the burst
  CHECK(d.reset == 55min);
  // A refusal charges nothing: the same wait a minute later is a minute shorter.
  CHECK(k.at(kT0 + 6 * minute).retry_after == 14min);

  // A microsecond early is still refused (and told to wait that microsecond,
  // rounded up to a millisecond); on time passes.
  d = k.at(kT0 + 20 * minute - 1);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after == 1ms);
  d = k.at(kT0 + 20 * minute);
  CHECK(d.allowed);
  CHECK(d.remaining == 0);
  CHECK(d.reset == 60min);

  // After a quiet hour and more the key is back to a full burst.
  CHECK(k.at(kT0 + 200 * minute).remaining == 2);
}

TEST_CASE("auth rate limit: a request costing several takes them all or nothing", "[auth][rate_limit]") {
  OneKey k(10, 60'000);  // one every 6 s
  auto d = k.at(kT0, 4);
  CHECK(d.allowed);
  CHECK(d.remaining == 6);
  CHECK(d.reset == 24s);
  CHECK(k.at(kT0, 6).allowed);
  d = k.at(kT0, 2);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after == 12s);
  CHECK(k.at(kT0 + 12 * kSecond, 2).allowed);
}

TEST_CASE("auth rate limit: several keys pass together or none is charged", "[auth][rate_limit]") {
  gcra::LocalGcra store;
  const std::vector<gcra::Params> params{gcra::params_of(5, 3'600'000), gcra::params_of(2, 3'600'000)};
  const std::vector<std::string> both{"rl:account:a", "rl:ip:b"};
  const std::vector<std::string> first{"rl:account:a"};
  const std::vector<gcra::Params> first_params{params[0]};

  auto d = summarize(params, store.check(both, params, 1, kT0), 1);
  CHECK(d.allowed);
  CHECK(d.limit == 2);  // the rule with the fewest requests left
  CHECK(d.remaining == 1);
  CHECK(summarize(params, store.check(both, params, 1, kT0), 1).allowed);

  std::vector<bool> limited;
  d = summarize(params, store.check(both, params, 1, kT0), 1, &limited);
  CHECK_FALSE(d.allowed);
  CHECK(d.limit == 2);
  CHECK(d.retry_after == 30min);
  CHECK(limited == std::vector<bool>{false, true});
  const int64_t tat_a = *store.tat("rl:account:a");
  CHECK(tat_a == kT0 + 2 * 720 * kSecond);  // charged twice, not three times

  // The first key alone still has three.
  for (int i = 0; i < 3; ++i) CHECK(summarize(first_params, store.check(first, first_params, 1, kT0), 1).allowed);
  CHECK_FALSE(summarize(first_params, store.check(first, first_params, 1, kT0), 1).allowed);
}

TEST_CASE("auth rate limit: the in-process store stays within its key cap", "[auth][rate_limit]") {
  gcra::LocalGcra store(16 * 64);  // 64 keys per shard
  const std::vector<gcra::Params> params{gcra::params_of(10, 60'000)};
  auto hit = [&](const std::string& key, int64_t now) {
    const std::vector<std::string> keys{key};
    return store.check(keys, params, 1, now).allowed;
  };
  for (int i = 0; i < 5000; ++i) REQUIRE(hit("short:" + std::to_string(i), kT0));
  CHECK(store.size() <= 16 * 64);
  CHECK(store.evictions() > 0);  // all of them were live

  // Expired keys go first: a minute later every key so far has expired, and
  // none of the new ones needs to push a live key out.
  const auto before = store.evictions();
  for (int i = 0; i < 100; ++i) REQUIRE(hit("later:" + std::to_string(i), kT0 + 60 * kSecond));
  CHECK(store.evictions() == before);
  CHECK(store.size() <= 16 * 64);

  // New subjects are never refused for room, and a subject that keeps coming
  // stays limited: the keys closest to expiring go, the busy one stays.
  for (int i = 0; i < 9; ++i) REQUIRE(hit("busy", kT0 + 120 * kSecond));  // nine of ten
  for (int i = 0; i < 5000; ++i) REQUIRE(hit("flood:" + std::to_string(i), kT0 + 120 * kSecond));
  CHECK(store.evictions() > before);
  CHECK(hit("busy", kT0 + 120 * kSecond));
  CHECK_FALSE(hit("busy", kT0 + 120 * kSecond));
}

TEST_CASE("auth rate limit: the rate_limits section has the documented defaults", "[auth][rate_limit]") {
  const RateLimitConfig c = parse("");
  CHECK(c == RateLimitConfig{});
  CHECK(c.user == RateRule{"user", 100, 60s});
  CHECK(c.ip == RateRule{"ip", 1000, 60s});
  CHECK(c.login_account == RateRule{"login_account", 10, 15min});
  CHECK(c.login_ip == RateRule{"login_ip", 50, 15min});
  CHECK(c.signup_ip == RateRule{"signup_ip", 20, 1h});
  CHECK(c.reset_account == RateRule{"reset_account", 5, 1h});
  CHECK(c.reset_ip == RateRule{"reset_ip", 20, 1h});
}

TEST_CASE("auth rate limit: the rate_limits section is read strictly", "[auth][rate_limit]") {
  const RateLimitConfig c = parse(
      "rate_limits:\n"
      "  user: {limit: 50, period: 30s}\n"
      "  login_ip: {limit: 0}\n"
      "  reset_account:\n"
      "    period: 2h\n");
  CHECK(c.user == RateRule{"user", 50, 30s});
  CHECK(c.login_ip.limit == 0);
  CHECK_FALSE(c.login_ip.enabled());
  CHECK(c.login_ip.period == 15min);
  CHECK(c.reset_account == RateRule{"reset_account", 5, 2h});
  CHECK(c.ip == RateLimitConfig{}.ip);

  CHECK_THAT(error_of("rate_limits:\n  usr: {limit: 5}\n"), Contains("rate_limits.usr") && Contains("unknown"));
  CHECK_THAT(error_of("rate_limits:\n  user: {limit: 5, perod: 1m}\n"),
             Contains("rate_limits.user.perod") && Contains("unknown"));
  CHECK_THAT(error_of("rate_limits:\n  user: {limit: -1}\n"), Contains("rate_limits.user.limit"));
  CHECK_THAT(error_of("rate_limits:\n  user: {limit: 2000000}\n"), Contains("rate_limits.user.limit"));
  CHECK_THAT(error_of("rate_limits:\n  ip: {period: 10ms}\n"), Contains("rate_limits.ip.period"));
  CHECK_THAT(error_of("rate_limits:\n  ip: {period: 2d}\n"), Contains("rate_limits.ip.period"));
  CHECK_THAT(error_of("rate_limits:\n  ip: {limit: lots}\n"), Contains("rate_limits.ip.limit"));
}

TEST_CASE("auth rate limit: RateLimit headers and Retry-After", "[auth][rate_limit]") {
  http::Response ok;
  apply_rate_headers(ok, RateDecision{.allowed = true, .limit = 100, .remaining = 42, .reset = 1500ms});
  CHECK(ok.headers.get("RateLimit-Limit") == "100");
  CHECK(ok.headers.get("RateLimit-Remaining") == "42");
  CHECK(ok.headers.get("RateLimit-Reset") == "2");  // rounded up
  CHECK_FALSE(ok.headers.has("Retry-After"));

  http::Response refused;
  refused.headers.set("RateLimit-Limit", "999");  // replaced, not repeated
  apply_rate_headers(refused,
                     RateDecision{.allowed = false, .limit = 10, .remaining = 0, .reset = 15min, .retry_after = 1ms});
  CHECK(refused.headers.get("RateLimit-Limit") == "10");
  CHECK(refused.headers.items().size() == 4);
  CHECK(refused.headers.get("RateLimit-Remaining") == "0");
  CHECK(refused.headers.get("RateLimit-Reset") == "900");
  CHECK(refused.headers.get("Retry-After") == "1");  // never 0

  http::Response none;
  apply_rate_headers(none, RateDecision{});  // no rule was checked
  CHECK(none.headers.items().empty());

  const ApiError e = too_many_requests(RateDecision{.allowed = false, .limit = 3, .retry_after = 90'001ms});
  CHECK(e.status() == 429);
  CHECK(e.code() == "rate_limited");
  CHECK(e.retry_after() == 91);
  CHECK(too_many_requests(RateDecision{.allowed = false, .retry_after = 0ms}).retry_after() == 1);
}

TEST_CASE("auth rate limit: client addresses become bounded subjects", "[auth][rate_limit]") {
  CHECK(ip_subject("203.0.113.7") == "203.0.113.7");
  CHECK(ip_subject("::ffff:203.0.113.7") == "203.0.113.7");
  CHECK(ip_subject("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(ip_subject("2001:db8:1:2:ffff::1") == ip_subject("2001:db8:1:2::9"));
  CHECK(ip_subject("2001:db8:1:3::1") != ip_subject("2001:db8:1:2::1"));
  CHECK(ip_subject("") == "");
  CHECK(ip_subject("not an address") == "not an address");
}

TEST_CASE("auth rate limit: without Redis the limiter enforces the limits in process and counts it",
          "[auth][rate_limit]") {
  DownRedis redis;
  ManualClock clock{SysTime(std::chrono::microseconds(kT0))};
  metrics::Registry registry;
  RateLimiter limiter(redis, clock, registry, "rl:");
  const RateRule login{"login_account", 3, 15min};
  const RateRule off{"login_ip", 0, 15min};

  for (int i = 0; i < 3; ++i) {
    const auto d = check(limiter, {{&login, "someone@example.com"}, {&off, "203.0.113.7"}});
    CHECK(d.allowed);
    CHECK(d.local);
    CHECK(d.limit == 3);
    CHECK(d.remaining == 2 - i);
  }
  auto d = check(limiter, {{&login, "someone@example.com"}, {&off, "203.0.113.7"}});
  CHECK_FALSE(d.allowed);
  CHECK(d.local);
  CHECK(d.retry_after == 5min);
  // Another account is not affected.
  CHECK(check(limiter, {{&login, "other@example.com"}}).allowed);
  // The subject is stored hashed, under the same key Redis would use.
  CHECK(limiter.local().tat(limiter.redis_key(login, "someone@example.com")).has_value());
  CHECK_THAT(limiter.redis_key(login, "someone@example.com"), !Contains("someone"));
  CHECK(limiter.redis_key(login, "someone@example.com").size() == std::string("rl:login_account:").size() + 32);
  // The first 128 bits of SHA-256("abc"), in hex: the format every instance
  // (and the next release) must agree on, or limits reset on deploy.
  CHECK(limiter.redis_key(login, "abc") == "rl:login_account:ba7816bf8f01cfea414140de5dae2223");

  clock.advance(5min);
  CHECK(check(limiter, {{&login, "someone@example.com"}}).allowed);

  CHECK(redis.evals == 6);  // Redis is tried every time, so that recovery is noticed
  auto counter = [&](const std::string& name, std::initializer_list<std::string_view> labels) {
    return registry
        .counter(name, "",
                 name == "huntaze_rate_limit_fallback_total" ? std::vector<std::string>{"reason"}
                                                             : std::vector<std::string>{"rule", "outcome", "backend"})
        .with(labels)
        .value();
  };
  CHECK(counter("huntaze_rate_limit_fallback_total", {"unavailable"}) == 6);
  CHECK(counter("huntaze_rate_limit_decisions_total", {"login_account", "allowed", "local"}) == 5);
  CHECK(counter("huntaze_rate_limit_decisions_total", {"login_account", "limited", "local"}) == 1);
  CHECK(counter("huntaze_rate_limit_decisions_total", {"login_ip", "allowed", "local"}) == 0);  // disabled
  CHECK(registry.gauge("huntaze_rate_limit_degraded", "").with({}).value() == 1);

  // A server that answers with an error is no better: still enforced.
  redis.error = true;
  CHECK(check(limiter, {{&login, "someone@example.com"}}).local);
  CHECK(counter("huntaze_rate_limit_fallback_total", {"error"}) == 1);
}

TEST_CASE("auth rate limit: what the limiter refuses to check", "[auth][rate_limit]") {
  DownRedis redis;
  ManualClock clock{SysTime(std::chrono::microseconds(kT0))};
  metrics::Registry registry;
  RateLimiter limiter(redis, clock, registry);
  const RateRule rule{"user", 3, 1min};
  const RateRule off{"ip", 0, 1min};

  CHECK_THROWS_AS(check(limiter, {{&rule, "u"}}, 0), std::invalid_argument);
  CHECK_THROWS_AS(check(limiter, {{&rule, "u"}}, 4), std::invalid_argument);
  CHECK_THROWS_AS(check(limiter, {{nullptr, "u"}}), std::invalid_argument);
  // Nothing enabled: allowed, no headers' worth of data, Redis not asked.
  const auto d = check(limiter, {{&off, "u"}});
  CHECK(d.allowed);
  CHECK(d.limit == 0);
  CHECK(check(limiter, {}).allowed);
  CHECK(redis.evals == 0);
}

TEST_CASE("auth rate limit: a refusal no rule explains still reports a wait and a limit", "[auth][rate_limit]") {
  // The backends and summarize() share the arithmetic, so this cannot happen
  // unless they drift apart: the client still gets a 429 it can act on.
  const std::vector<gcra::Params> params{gcra::params_of(10, 60'000), gcra::params_of(5, 60'000)};
  const gcra::Outcome outcome{.now_us = kT0, .allowed = false, .prior_tat_us = {kT0 + 6 * kSecond, kT0}};
  std::vector<bool> limited;
  const RateDecision d = summarize(params, outcome, 1, &limited);
  CHECK_FALSE(d.allowed);
  CHECK(d.limit == 10);
  CHECK(d.remaining == 0);
  CHECK(d.reset == 6s);
  CHECK(d.retry_after == 1ms);
  CHECK(limited == std::vector<bool>{false, false});
}

TEST_CASE("auth rate limit: the per-address middleware answers errors from further in with its headers",
          "[auth][rate_limit]") {
  DownRedis redis;  // decided in process: the middleware does not care which backend answers
  ManualClock clock{SysTime(std::chrono::microseconds(kT0))};
  metrics::Registry registry;
  RateLimiter limiter(redis, clock, registry);
  const http::Middleware limit = ip_rate_limit(limiter, RateRule{"ip", 10, 1h});
  http::Request req;
  req.remote_address = "2001:db8:1:2::7";
  req.request_id = "req-1";
  auto through = [&](const http::Next& next) {
    return test::run<http::Response>([&]() { return limit(req, next); });
  };

  // An inner limit's headers are the more specific: kept as they are.
  const http::Next inner_limited = [](http::Request&) -> asio::awaitable<http::Response> {
    http::Response res = http::Response::json_text(200, "{}");
    res.headers.set("RateLimit-Limit", "7");
    res.headers.set("RateLimit-Remaining", "6");
    res.headers.set("RateLimit-Reset", "9");
    co_return res;
  };
  auto res = through(inner_limited);
  CHECK(res.status == 200);
  CHECK(res.headers.get("RateLimit-Limit") == "7");
  CHECK(res.headers.get("RateLimit-Remaining") == "6");

  // A client error becomes its response here, with this rule's headers.
  const http::Next invalid = [](http::Request&) -> asio::awaitable<http::Response> {
    throw ApiError::bad_request("no");
    co_return http::Response::no_content();
  };
  res = through(invalid);
  CHECK(res.status == 400);
  CHECK_THAT(res.body, Contains("invalid_request") && Contains("req-1"));
  CHECK(res.headers.get("RateLimit-Limit") == "10");
  CHECK(res.headers.get("RateLimit-Remaining") == "8");

  // A plain 429 from further in: its Retry-After, none of this rule's headers.
  const http::Next busy = [](http::Request&) -> asio::awaitable<http::Response> {
    throw too_many_requests(RateDecision{.allowed = false, .limit = 3, .retry_after = 4s});
    co_return http::Response::no_content();
  };
  res = through(busy);
  CHECK(res.status == 429);
  CHECK(res.headers.get("Retry-After") == "4");
  CHECK_FALSE(res.headers.has("RateLimit-Limit"));

  // A server error is left to errors(), which logs it.
  const http::Next broken = [](http::Request&) -> asio::awaitable<http::Response> {
    throw ApiError::unavailable("database_unavailable", "down");
    co_return http::Response::no_content();
  };
  try {
    through(broken);
    FAIL("the 503 did not propagate");
  } catch (const ApiError& e) {
    CHECK(e.status() == 503);
  }

  // Every address of one /64 shares the budget: 4 used above, 6 left.
  const http::Next ok = [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::no_content();
  };
  req.remote_address = "2001:db8:1:2:ffff::1";
  for (int i = 0; i < 6; ++i) REQUIRE(through(ok).status == 204);
  res = through(ok);
  CHECK(res.status == 429);
  CHECK(res.headers.get("RateLimit-Remaining") == "0");
  CHECK(res.headers.get("Retry-After") == "360");  // one request's worth of the hour
}
