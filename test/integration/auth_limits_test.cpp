// Rate limits on the auth routes through HTTP: 429 with RateLimit-* and
// Retry-After, and the in-process fallback while Redis is down.
#include "auth_fixture.hpp"

using namespace huntaze;
using namespace huntaze::test::autht;

TEST_CASE("login attempts per account are limited also while Redis is down", "[auth][rate_limit]") {
  test::RedisProcess redis;
  AuthApp t([](app::AppConfig& c) { c.auth.rate_limits.login_account = {"login_account", 3, std::chrono::minutes(15)}; },
            redis.config());
  auto u = t.sign_up_and_log_in("limited@example.com");  // one login
  const std::string wrong = json::serialize(json::object{{"email", u.email}, {"password", "wrong password!"}});
  CHECK(t.call("POST", "/api/v1/auth/login", wrong).status == 401);
  CHECK(t.call("POST", "/api/v1/auth/login", wrong).status == 401);
  Reply limited = t.call("POST", "/api/v1/auth/login", wrong);
  CHECK(limited.status == 429);
  CHECK(limited.code() == "rate_limited");
  CHECK(std::stoi(limited.header("retry-after")) >= 1);
  CHECK(limited.header("ratelimit-limit") == "3");
  CHECK(limited.header("ratelimit-remaining") == "0");
  // The right password does not get through either: the account is locked for now.
  CHECK(t.call("POST", "/api/v1/auth/login",
               json::serialize(json::object{{"email", u.email}, {"password", u.password}}))
            .status == 429);

  // Redis gone: the limiter falls back to memory and keeps refusing a fresh
  // account after its three tries, instead of failing open.
  redis.stop();
  const std::string other = json::serialize(json::object{{"email", "other@example.com"}, {"password", "wrong!!"}});
  int refused = 0;
  for (int i = 0; i < 5; ++i)
    if (t.call("POST", "/api/v1/auth/login", other).status == 429) ++refused;
  CHECK(refused == 2);
  const std::string metrics = t.call("GET", "/metrics").raw;
  CHECK(metric_sum(metrics, "huntaze_rate_limit_fallback_total") >= 5);
}

TEST_CASE("authenticated requests are limited per user", "[auth][rate_limit]") {
  test::RedisProcess redis;
  AuthApp t([](app::AppConfig& c) { c.auth.rate_limits.user = {"user", 5, std::chrono::minutes(1)}; }, redis.config());
  auto u = t.sign_up_and_log_in("busy@example.com");  // /me once
  int ok = 0, limited = 0;
  for (int i = 0; i < 6; ++i) {
    Reply r = t.as(u.access, "GET", "/api/v1/me");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      CHECK(!r.header("retry-after").empty());
    }
  }
  CHECK(ok == 4);
  CHECK(limited == 2);
}

namespace {

// Script calls (EVALSHA and EVAL) a redis-server has answered so far.
int64_t script_calls(int port) {
  const std::string command = "redis-cli -p " + std::to_string(port) + " INFO commandstats";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe);
  int64_t total = 0;
  char line[512];
  while (fgets(line, sizeof line, pipe.get())) {
    const std::string text(line);
    if (!text.starts_with("cmdstat_evalsha:") && !text.starts_with("cmdstat_eval:")) continue;
    total += std::stoll(text.substr(text.find("calls=") + 6));
  }
  return total;
}

}  // namespace

TEST_CASE("the per-address limit rides in the guard's script call and still counts bad tokens",
          "[auth][rate_limit]") {
  test::RedisProcess redis;
  AuthApp t([](app::AppConfig& c) { c.auth.rate_limits.ip = {"ip", 12, std::chrono::hours(1)}; }, redis.config());
  // Sign-up, verification, login and /me: four requests from this address.
  auto u = t.sign_up_and_log_in("address@example.com");

  // One Redis round trip per authenticated request: user, address and the
  // session's deny-list entry in one script call.
  const int64_t before = script_calls(redis.port());
  for (int i = 0; i < 3; ++i) REQUIRE(t.as(u.access, "GET", "/api/v1/me").status == 200);
  CHECK(script_calls(redis.port()) - before == 3);

  // A token that does not verify never reaches the guard's call: the limit
  // counts it before the handler (a script call of its own).
  for (int i = 0; i < 3; ++i) CHECK(t.as("not-a-token", "GET", "/api/v1/me").status == 401);
  // 4 + 3 + 3 = 10 of 12: two more pass, whatever they carry.
  CHECK(t.as(u.access, "GET", "/api/v1/me").status == 200);
  CHECK(t.as("not-a-token", "GET", "/api/v1/me").status == 401);
  Reply limited = t.as(u.access, "GET", "/api/v1/me");
  CHECK(limited.status == 429);
  CHECK(limited.code() == "rate_limited");
  Reply bad = t.as("not-a-token", "GET", "/api/v1/me");
  CHECK(bad.status == 429);
  CHECK(bad.header("ratelimit-limit") == "12");
  CHECK(t.call("GET", "/api/v1/auth/oidc/providers").status == 429);
}

TEST_CASE("the per-address limit leaves /healthz alone and counts everything else", "[auth][rate_limit]") {
  test::RedisProcess redis;
  AuthApp t([](app::AppConfig& c) { c.auth.rate_limits.ip = {"ip", 2, std::chrono::hours(1)}; }, redis.config());
  for (int i = 0; i < 5; ++i) {
    Reply live = t.call("GET", "/healthz");
    CHECK(live.status == 200);
    CHECK(live.header("ratelimit-limit").empty());
  }
  CHECK(t.call("GET", "/readyz").status == 200);
  CHECK(t.call("GET", "/api/v1/auth/oidc/providers").status == 200);
  CHECK(t.call("GET", "/readyz").status == 429);
  CHECK(t.call("GET", "/healthz").status == 200);
}

TEST_CASE("over the per-address limit a junk token does not get a public handler run", "[auth][rate_limit]") {
  test::RedisProcess redis;
  AuthApp t([](app::AppConfig& c) { c.auth.rate_limits.ip = {"ip", 2, std::chrono::hours(1)}; }, redis.config());
  // Sign-up is public and leaves a trace: an account.
  auto sign_up = [&](const std::string& email, const std::string& headers) {
    return t.call("POST", "/api/v1/auth/signup",
                  json::serialize(json::object{{"email", email}, {"password", "junk token pass 1"}}), headers);
  };
  const std::string junk = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n";
  CHECK(sign_up("first@example.com", junk).status == 202);
  CHECK(sign_up("second@example.com", junk).status == 202);
  CHECK(sign_up("third@example.com", junk).status == 429);
  CHECK(sign_up("fourth@example.com", "Cookie: hz_access=eyJhbGciOiJIUzI1NiJ9.e30.sig\r\n").status == 429);
  CHECK(t.scalar("SELECT count(*) FROM auth.users") == "2");
  CHECK(t.call("GET", "/readyz", "", junk).status == 429);
}
