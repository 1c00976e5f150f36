// The auth rate limiter against real Redis: limits enforced by the script,
// several keys all or nothing, the script and the in-process fallback
// deciding alike, an outage (a private redis-server stopped and started)
// falling back to in-process limits that still refuse and are counted, and
// the per-address middleware answering 429 with its headers through a real
// server.
//
// The Redis path takes its time from the server (TIME), which the tests do
// not control: the rules are per hour, so that the milliseconds a test
// takes change no number it checks.
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <optional>

#include "auth/jwt.hpp"
#include "auth/rate_limit_gcra.hpp"
#include "auth/rate_limit_http.hpp"
#include "auth/rate_limiter.hpp"
#include "huntaze/core/clock.hpp"
#include "redis_fixture.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using namespace huntaze::auth;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

constexpr int64_t kT0 = 2'000'000'000'000'000;  // µs since the epoch (2033)
constexpr int64_t kMinute = 60'000'000;

// A prefix no other test (or run) shares, so every key starts fresh.
std::string fresh_prefix() {
  return test::unique_key("rl") + ":";
}

RateDecision check(test::RedisFixture& f, RateLimiter& limiter, std::vector<RateKey> keys, int64_t cost = 1) {
  return f.io.block(limiter.check(std::move(keys), cost));
}

double decisions(metrics::Registry& registry, std::string_view rule, std::string_view outcome,
                 std::string_view backend) {
  return registry.counter("huntaze_rate_limit_decisions_total", "", {"rule", "outcome", "backend"})
      .with({rule, outcome, backend})
      .value();
}

double fallbacks(metrics::Registry& registry, std::string_view reason) {
  return registry.counter("huntaze_rate_limit_fallback_total", "", {"reason"}).with({reason}).value();
}

// Access tokens and the check AuthModule gives the per-address limit: the
// token verifies.
class SessionTokens {
 public:
  SessionTokens() : jwt_(config()) {}

  std::string valid() const {
    AccessClaims c;
    c.subject = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    c.session = "0190a1b2-c3d4-7e5f-8a9b-00000000beef";
    c.token_id = "jti-1";
    c.issued_at = c.not_before = clock_.now();
    c.expires_at = c.issued_at + 15min;
    return jwt_.sign(c);
  }

  SessionTokenCheck check() const {
    return [this](std::string_view token) {
      return std::holds_alternative<AccessClaims>(jwt_.verify(token, clock_.now()));
    };
  }

 private:
  static JwtConfig config() {
    JwtConfig c;
    c.keys.push_back({"k1", Secret(std::string(40, 'k'))});
    return c;
  }
  SystemClock clock_;
  JwtCodec jwt_;
};

}  // namespace

TEST_CASE("auth rate limit: Redis enforces a rule and keeps only a hashed key until it is forgotten",
          "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  const RateRule rule{"login_account", 3, 1h};  // one every 20 minutes
  const std::string email = "someone@example.com";

  for (int i = 0; i < 3; ++i) {
    const auto d = check(f, limiter, {{&rule, email}});
    CHECK(d.allowed);
    CHECK_FALSE(d.local);
    CHECK(d.limit == 3);
    CHECK(d.remaining == 2 - i);
  }
  const auto d = check(f, limiter, {{&rule, email}});
  CHECK_FALSE(d.allowed);
  CHECK_FALSE(d.local);
  CHECK(d.remaining == 0);
  CHECK(d.retry_after > 19min);
  CHECK(d.retry_after <= 20min);
  CHECK(d.reset > 59min);
  CHECK(d.reset <= 60min);
  // Another subject under the same rule is not affected.
  CHECK(check(f, limiter, {{&rule, "other@example.com"}}).allowed);

  const std::string key = limiter.redis_key(rule, email);
  CHECK_THAT(key, Contains(":login_account:") && !Contains("someone") && !Contains("example"));
  const auto tat = f.io.block(f.redis->command("GET", key));
  REQUIRE_FALSE(tat.is_nil());
  CHECK(tat.str.find_first_not_of("0123456789") == std::string::npos);
  const int64_t ttl = f.io.block(f.redis->command("PTTL", key)).integer;
  CHECK(ttl > 59 * 60'000);
  CHECK(ttl <= 60 * 60'000);

  CHECK(decisions(f.registry, "login_account", "allowed", "redis") == 4);
  CHECK(decisions(f.registry, "login_account", "limited", "redis") == 1);
  CHECK(fallbacks(f.registry, "unavailable") == 0);
}

TEST_CASE("auth rate limit: Redis checks several keys all or nothing", "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  const RateRule account{"login_account", 5, 1h};
  const RateRule ip{"login_ip", 2, 1h};
  const RateRule off{"signup_ip", 0, 1h};

  auto d = check(f, limiter, {{&account, "a@example.com"}, {&ip, "203.0.113.7"}, {&off, "203.0.113.7"}});
  CHECK(d.allowed);
  CHECK(d.limit == 2);  // the rule with the fewest requests left
  CHECK(d.remaining == 1);
  CHECK(check(f, limiter, {{&account, "a@example.com"}, {&ip, "203.0.113.7"}}).allowed);
  d = check(f, limiter, {{&account, "a@example.com"}, {&ip, "203.0.113.7"}});
  CHECK_FALSE(d.allowed);
  CHECK(d.limit == 2);
  CHECK(d.retry_after > 29min);
  CHECK(d.retry_after <= 30min);
  CHECK(decisions(f.registry, "login_account", "limited", "redis") == 0);
  CHECK(decisions(f.registry, "login_ip", "limited", "redis") == 1);

  // The refused check took nothing from the account: it has three left.
  for (int i = 0; i < 3; ++i) CHECK(check(f, limiter, {{&account, "a@example.com"}}).allowed);
  CHECK_FALSE(check(f, limiter, {{&account, "a@example.com"}}).allowed);
  // The disabled rule was never stored.
  CHECK(f.io.block(f.redis->command("EXISTS", limiter.redis_key(off, "203.0.113.7"))).integer == 0);
}

TEST_CASE("auth rate limit: the in-process fallback decides exactly as the Redis script does", "[auth][rate_limit]") {
  test::RedisFixture f;
  gcra::LocalGcra local;
  const std::string prefix = fresh_prefix();
  const std::vector<std::string> all{prefix + "a", prefix + "b", prefix + "c"};
  // a: 3 an hour, b: 10 an hour, c: 7 per 20 minutes (an interval that does
  // not divide the period). Every key lives at least minutes of real time,
  // far longer than the test, so Redis expiring keys cannot make the two differ.
  const std::vector<gcra::Params> params{gcra::params_of(3, 3'600'000), gcra::params_of(10, 3'600'000),
                                         gcra::params_of(7, 3'600'000 / 3)};
  struct Step {
    int64_t at_us;
    std::vector<size_t> keys;
    int64_t cost;
  };
  const std::vector<Step> steps = {
      {0, {0, 1, 2}, 1},              // allowed
      {0, {0, 1, 2}, 1},              // allowed
      {0, {1, 2}, 5},                 // allowed: c's burst is exactly spent
      {0, {2}, 1},                    // refused
      {0, {0, 2}, 1},                 // refused by c, a not charged
      {0, {0}, 1},                    // allowed: a's third
      {0, {0}, 1},                    // refused
      {10 * kMinute, {0}, 1},         // refused
      {20 * kMinute, {0}, 1},         // allowed, on the microsecond
      {20 * kMinute + 1, {1, 2}, 2},  // allowed
      {21 * kMinute, {1}, 10},        // refused: b is not full again
      {90 * kMinute, {0, 1, 2}, 3},   // allowed after a quiet hour
      {90 * kMinute, {0, 1, 2}, 1},   // refused by a
  };
  int allowed = 0, refused = 0;
  for (const Step& s : steps) {
    std::vector<std::string> keys;
    std::vector<gcra::Params> ps;
    for (size_t i : s.keys) {
      keys.push_back(all[i]);
      ps.push_back(params[i]);
    }
    const int64_t now = kT0 + s.at_us;
    const gcra::Outcome r = f.io.block(gcra::check_in_redis(*f.redis, keys, ps, s.cost, now));
    const gcra::Outcome l = local.check(keys, ps, s.cost, now);
    CHECK(r.now_us == now);
    CHECK(r.allowed == l.allowed);
    CHECK(r.prior_tat_us == l.prior_tat_us);
    std::vector<bool> r_limited, l_limited;
    const RateDecision rd = summarize(ps, r, s.cost, &r_limited);
    const RateDecision ld = summarize(ps, l, s.cost, &l_limited);
    CHECK(rd.allowed == ld.allowed);
    CHECK(rd.limit == ld.limit);
    CHECK(rd.remaining == ld.remaining);
    CHECK(rd.reset == ld.reset);
    CHECK(rd.retry_after == ld.retry_after);
    CHECK(r_limited == l_limited);
    for (const auto& key : all) {
      const auto stored = f.io.block(f.redis->command("GET", key));
      const std::optional<int64_t> in_redis =
          stored.is_nil() ? std::nullopt : std::optional<int64_t>(std::stoll(stored.str));
      CHECK(in_redis == local.tat(key));
    }
    (r.allowed ? allowed : refused)++;
  }
  CHECK(allowed == 7);
  CHECK(refused == 6);
}

TEST_CASE("auth rate limit: while Redis is down the limits hold per process and the fallback is counted",
          "[auth][rate_limit]") {
  test::RedisProcess server;
  test::RedisFixture f(server.config());
  ManualClock clock{SysTime(std::chrono::microseconds(kT0))};
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  const RateRule rule{"login_account", 3, 1h};
  auto degraded = [&] { return f.registry.gauge("huntaze_rate_limit_degraded", "").with({}).value(); };

  CHECK_FALSE(check(f, limiter, {{&rule, "a@example.com"}}).local);
  CHECK(degraded() == 0);

  server.stop();
  REQUIRE(test::eventually([&] { return !f.redis->connected(); }));
  for (int i = 0; i < 3; ++i) {
    const auto d = check(f, limiter, {{&rule, "a@example.com"}});
    CHECK(d.allowed);
    CHECK(d.local);
  }
  auto d = check(f, limiter, {{&rule, "a@example.com"}});
  CHECK_FALSE(d.allowed);  // login is never let through unchecked
  CHECK(d.local);
  CHECK(d.retry_after == 20min);  // the ManualClock has not moved
  CHECK(fallbacks(f.registry, "unavailable") == 4);
  CHECK(decisions(f.registry, "login_account", "allowed", "local") == 3);
  CHECK(decisions(f.registry, "login_account", "limited", "local") == 1);
  CHECK(degraded() == 1);
  clock.advance(20min);
  CHECK(check(f, limiter, {{&rule, "a@example.com"}}).allowed);

  // Back: Redis decides again (a fresh server without persistence: a full burst).
  server.start();
  REQUIRE(test::eventually([&] { return !check(f, limiter, {{&rule, "poll@example.com"}}).local; }));
  d = check(f, limiter, {{&rule, "a@example.com"}});
  CHECK(d.allowed);
  CHECK_FALSE(d.local);
  CHECK(d.remaining == 2);
  CHECK(degraded() == 0);
  CHECK(decisions(f.registry, "login_account", "allowed", "redis") >= 2);
}

TEST_CASE("auth rate limit: the per-address middleware answers 429 with RateLimit headers through a server",
          "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  test::TestServer server;
  std::atomic<int> calls{0};

  http::Next ok = [&calls](http::Request&) -> asio::awaitable<http::Response> {
    calls.fetch_add(1);
    co_return http::Response::json_text(200, R"({"ok":true})");
  };
  http::Next missing = [](http::Request&) -> asio::awaitable<http::Response> {
    throw ApiError::not_found("no such thing");
    co_return http::Response::no_content();
  };
  http::Next user_limited = [](http::Request&) -> asio::awaitable<http::Response> {
    throw RateLimitedError(
        RateDecision{.allowed = false, .limit = 100, .remaining = 0, .reset = 60s, .retry_after = 1500ms});
    co_return http::Response::no_content();
  };
  http::Middleware strict = ip_rate_limit(limiter, RateRule{"ip", 2, 1h});
  http::Middleware loose = ip_rate_limit(limiter, RateRule{"ip_loose", 10, 1h});
  server.router.get("/limited", [strict, ok](http::Request& r) { return strict(r, ok); });
  server.router.get("/missing", [loose, missing](http::Request& r) { return loose(r, missing); });
  server.router.get("/user-limited", [loose, user_limited](http::Request& r) { return loose(r, user_limited); });
  server.start();

  auto first = test::http_get(server.port(), "/limited");
  CHECK(first.status == 200);
  CHECK(first.header("ratelimit-limit") == "2");
  CHECK(first.header("ratelimit-remaining") == "1");
  CHECK(first.header("ratelimit-reset") == "1800");  // one request's worth of the hour
  CHECK(first.header("retry-after").empty());
  CHECK(test::http_get(server.port(), "/limited").header("ratelimit-remaining") == "0");

  auto refused = test::http_get(server.port(), "/limited", "X-Request-Id: rl-test-1\r\n");
  CHECK(refused.status == 429);
  CHECK(refused.header("ratelimit-limit") == "2");
  CHECK(refused.header("ratelimit-remaining") == "0");
  const int retry = std::stoi(refused.header("retry-after"));
  CHECK(retry > 29 * 60);
  CHECK(retry <= 30 * 60);
  CHECK(refused.header("x-request-id") == "rl-test-1");
  const auto body = boost::json::parse(refused.body);
  CHECK(body.at("error").at("code") == "rate_limited");
  CHECK(body.at("error").at("request_id") == "rl-test-1");
  CHECK(calls.load() == 2);  // the refused request never reached the handler

  // An error answer from further in still carries the headers.
  auto not_found = test::http_get(server.port(), "/missing");
  CHECK(not_found.status == 404);
  CHECK(boost::json::parse(not_found.body).at("error").at("code") == "not_found");
  CHECK(not_found.header("ratelimit-limit") == "10");
  CHECK(not_found.header("ratelimit-remaining") == "9");

  // A 429 from an inner limit carries that limit's headers, not the address's.
  auto inner = test::http_get(server.port(), "/user-limited");
  CHECK(inner.status == 429);
  CHECK(boost::json::parse(inner.body).at("error").at("code") == "rate_limited");
  CHECK(inner.header("retry-after") == "2");
  CHECK(inner.header("ratelimit-limit") == "100");
  CHECK(inner.header("ratelimit-remaining") == "0");
  CHECK(inner.header("ratelimit-reset") == "60");

  CHECK(decisions(f.registry, "ip", "allowed", "redis") == 2);
  CHECK(decisions(f.registry, "ip", "limited", "redis") == 1);
  server.stop();
}

TEST_CASE("auth rate limit: with a session token the address is counted by the guard or after the handler",
          "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  test::TestServer server;
  std::atomic<int> failing_calls{0};
  std::atomic<int> observed_calls{0};
  std::atomic<bool> observed_deferred{true};

  // What the guard does when it counts the address in its own call.
  http::Next taken = [](http::Request& req) -> asio::awaitable<http::Response> {
    req.address_limit_deferred = false;
    co_return http::Response::no_content();
  };
  http::Next failing = [&failing_calls](http::Request&) -> asio::awaitable<http::Response> {
    failing_calls.fetch_add(1);
    throw ApiError(500, "internal", "boom");
    co_return http::Response::no_content();
  };
  http::Next observe = [&](http::Request& req) -> asio::awaitable<http::Response> {
    observed_calls.fetch_add(1);
    observed_deferred = req.address_limit_deferred;
    co_return http::Response::no_content();
  };
  SessionTokens tokens;
  http::Middleware limit = ip_rate_limit(limiter, RateRule{"ip_deferred", 2, 1h}, {}, tokens.check());
  server.router.get("/taken", [limit, taken](http::Request& r) { return limit(r, taken); });
  server.router.get("/failing", [limit, failing](http::Request& r) { return limit(r, failing); });
  server.router.get("/observe", [limit, observe](http::Request& r) { return limit(r, observe); });
  server.start();
  const std::string session = "Authorization: Bearer " + tokens.valid() + "\r\n";

  // The guard took it: the middleware counts nothing.
  CHECK(test::http_get(server.port(), "/taken", session).status == 204);
  CHECK(decisions(f.registry, "ip_deferred", "allowed", "redis") == 0);
  // Nobody took it and the handler failed: counted all the same.
  CHECK(test::http_get(server.port(), "/failing", session).status == 500);
  CHECK(test::http_get(server.port(), "/failing", session).status == 500);
  CHECK(decisions(f.registry, "ip_deferred", "allowed", "redis") == 2);
  auto refused = test::http_get(server.port(), "/failing", session);
  CHECK(refused.status == 429);  // the handler ran, its answer is replaced
  CHECK(failing_calls.load() == 3);
  CHECK(decisions(f.registry, "ip_deferred", "limited", "redis") == 1);

  // An API key, however the header is spaced, is checked before the handler:
  // refused here without running it.
  CHECK(test::http_get(server.port(), "/observe", "Authorization: Bearer \t hzk_0123\r\n").status == 429);
  CHECK(observed_calls.load() == 0);
  server.stop();

  // And below the limit such a request reaches the handler undeferred.
  RateLimiter fresh(*f.redis, clock, f.registry, fresh_prefix());
  test::TestServer second;
  http::Middleware loose = ip_rate_limit(fresh, RateRule{"ip_loose2", 10, 1h}, {}, tokens.check());
  second.router.get("/observe", [loose, observe](http::Request& r) { return loose(r, observe); });
  second.start();
  CHECK(test::http_get(second.port(), "/observe", "Authorization: Bearer  hzk_0123\r\n").status == 204);
  CHECK(observed_calls.load() == 1);
  CHECK_FALSE(observed_deferred.load());
  CHECK(test::http_get(second.port(), "/observe", session).status == 204);
  CHECK(observed_deferred.load());
  second.stop();
}

TEST_CASE("auth rate limit: over the limit a token that does not verify is refused before the handler runs",
          "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  test::TestServer server;
  SessionTokens tokens;
  std::atomic<int> calls{0};
  // A public route (no guard): whatever it does happens before any 429.
  http::Next public_route = [&calls](http::Request&) -> asio::awaitable<http::Response> {
    calls.fetch_add(1);
    co_return http::Response::json_text(200, R"({"ok":true})");
  };
  http::Middleware limit = ip_rate_limit(limiter, RateRule{"ip_junk", 2, 1h}, {}, tokens.check());
  server.router.get("/public", [limit, public_route](http::Request& r) { return limit(r, public_route); });
  server.start();
  const std::string junk = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n";

  // Counted up front, like a request without a token.
  auto first = test::http_get(server.port(), "/public", junk);
  CHECK(first.status == 200);
  CHECK(first.header("ratelimit-remaining") == "1");
  CHECK(test::http_get(server.port(), "/public", junk).status == 200);
  CHECK(calls.load() == 2);

  // Over the limit: refused without running the handler, by header or cookie.
  auto refused = test::http_get(server.port(), "/public", junk);
  CHECK(refused.status == 429);
  CHECK(boost::json::parse(refused.body).at("error").at("code") == "rate_limited");
  CHECK(test::http_get(server.port(), "/public", "Cookie: hz_access=not-a-token\r\n").status == 429);
  CHECK(test::http_get(server.port(), "/public", "Authorization: Bearer \r\n").status == 429);
  CHECK(calls.load() == 2);
  CHECK(decisions(f.registry, "ip_junk", "limited", "redis") == 3);

  // A token that verifies is still left for a guard to count: on a route
  // without one the handler runs and its answer is replaced.
  CHECK(test::http_get(server.port(), "/public", "Authorization: Bearer " + tokens.valid() + "\r\n").status == 429);
  CHECK(calls.load() == 3);
  server.stop();
}

TEST_CASE("auth rate limit: a deny key refuses in the same call without charging the rules", "[auth][rate_limit]") {
  test::RedisFixture f;
  SystemClock clock;
  RateLimiter limiter(*f.redis, clock, f.registry, fresh_prefix());
  const RateRule rule{"user", 2, 1h};
  const std::string deny = test::unique_key("deny");

  auto with_deny = [&](const std::string& subject) {
    std::vector<RateKey> keys{{&rule, subject}};
    std::vector<std::string> deny_keys{deny};
    return f.io.block(limiter.check(std::move(keys), 1, std::move(deny_keys)));
  };
  auto first = with_deny("u1");
  CHECK(first.allowed);
  CHECK_FALSE(first.denied);
  CHECK(first.remaining == 1);

  f.io.block(f.redis->command("SET", deny, "1", "PX", "60000"));
  for (int i = 0; i < 3; ++i) {
    auto refused = with_deny("u1");
    CHECK(refused.denied);
    CHECK_FALSE(refused.local);
  }
  // Nothing was charged while denied: one request of two is still left.
  f.io.block(f.redis->command("DEL", deny));
  auto after = with_deny("u1");
  CHECK(after.allowed);
  CHECK(after.remaining == 0);

  // With every rule disabled, the deny key is still looked at.
  const RateRule off{"user", 0, 1h};
  f.io.block(f.redis->command("SET", deny, "1", "PX", "60000"));
  std::vector<RateKey> none{{&off, "u2"}};
  std::vector<std::string> deny_keys{deny};
  CHECK(f.io.block(limiter.check(std::move(none), 1, std::move(deny_keys))).denied);
}
