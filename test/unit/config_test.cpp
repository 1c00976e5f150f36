#include "huntaze/core/config.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "app/app_config.hpp"
#include "support/config_parse.hpp"

using namespace huntaze;
using Catch::Matchers::Contains;

namespace {

// The source tree's copy of a shipped file (built in steps: GCC 12 warns
// falsely on literal + string concatenation here).
std::string source_file(const char* relative) {
  std::string path = HUNTAZE_SOURCE_DIR;
  path += relative;
  return path;
}

app::AppConfig parse(const std::string& yaml) {
  auto doc = config::Document::load_string(yaml, "test.yaml");
  return app::load_config(doc);
}

std::string error_of(const std::string& yaml) {
  return test::config_error([&] { parse(yaml); });
}

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name); }
  const char* name;
};

}  // namespace

TEST_CASE("an empty configuration yields the documented defaults", "[config]") {
  auto c = parse("");
  CHECK(c.server.port == 8080);
  CHECK(c.server.header_limit == 16 * 1024);
  CHECK(c.server.body_limit == 1024 * 1024);
  CHECK(c.server.idle_timeout == std::chrono::seconds(60));
  CHECK(c.database.pool_max == 16);
  CHECK(c.database.migrate_on_start);
  CHECK(c.redis.port == 6379);
  CHECK(c.metrics.enabled);
}

TEST_CASE("config/huntaze.yaml documents exactly the defaults", "[config]") {
  auto file = config::Document::load_file(source_file("/config/huntaze.yaml"));
  auto from_file = app::load_config(file).effective;
  auto defaults = parse("").effective;
  REQUIRE(from_file.size() == defaults.size());
  for (size_t i = 0; i < defaults.size(); ++i) {
    INFO(defaults[i].first);
    CHECK(from_file[i] == defaults[i]);
  }
}

TEST_CASE("the shipped dev and test configurations are valid", "[config]") {
  for (const char* name : {"/config/dev.yaml", "/config/test.yaml"}) {
    auto doc = config::Document::load_file(source_file(name));
    REQUIRE_NOTHROW(app::load_config(doc));
  }
}

TEST_CASE("values of every kind are parsed", "[config]") {
  auto c = parse(R"(
server:
  port: 9000
  header_limit: 8KiB
  body_limit: 10MB
  idle_timeout: 1.5s
  shutdown_grace: 2m
  access_log: off
  cors:
    origins: [https://app.example.com, "http://localhost:3000"]
database:
  url: postgresql://u:pw@db/huntaze
  statement_timeout: 0
)");
  CHECK(c.server.port == 9000);
  CHECK(c.server.header_limit == 8192);
  CHECK(c.server.body_limit == 10'000'000);
  CHECK(c.server.idle_timeout == std::chrono::milliseconds(1500));
  CHECK(c.server.shutdown_grace == std::chrono::minutes(2));
  CHECK_FALSE(c.server.access_log);
  CHECK(c.server.cors.allowed_origins == std::vector<std::string>{"https://app.example.com", "http://localhost:3000"});
  CHECK(c.database.url.reveal() == "postgresql://u:pw@db/huntaze");
  CHECK(c.database.statement_timeout.count() == 0);
}

TEST_CASE("an unknown key is an error with file, line, column and key path", "[config]") {
  CHECK(error_of("server:\n  port: 1\n  io_thread: 4\n") == "test.yaml:3:3: server.io_thread: unknown key");
  CHECK(error_of("serverr:\n  port: 1\n") == "test.yaml:1:1: serverr: unknown key");
  CHECK(error_of("server:\n  cors:\n    origin: [x]\n") == "test.yaml:3:5: server.cors.origin: unknown key");
}

TEST_CASE("wrong types are errors naming the key", "[config]") {
  CHECK(error_of("server:\n  port: eighty\n") == "test.yaml:2:9: server.port: expected an integer, got 'eighty'");
  CHECK(error_of("server:\n  access_log: maybe\n") ==
        "test.yaml:2:15: server.access_log: expected true or false, got 'maybe'");
  CHECK(error_of("server:\n  idle_timeout: 10\n") ==
        "test.yaml:2:17: server.idle_timeout: expected a duration like 250ms, 30s, 5m or 1h, got '10'");
  CHECK(error_of("server:\n  body_limit: 1 potato\n") ==
        "test.yaml:2:15: server.body_limit: expected a size like 1048576, 64KiB or 10MiB, got '1 potato'");
  CHECK(error_of("server:\n  cors:\n    origins: https://a.example\n") ==
        "test.yaml:3:14: server.cors.origins: expected a list");
  CHECK(error_of("server: 8080\n") == "test.yaml:1:9: server: expected a mapping");
  CHECK(error_of("server:\n  port: [1, 2]\n") == "test.yaml:2:9: server.port: expected a single value");
  CHECK(error_of("log:\n  level: loud\n") ==
        "test.yaml:2:10: log.level: must be one of: debug, info, warn, error, off; got 'loud'");
}

TEST_CASE("out-of-range values are errors", "[config]") {
  CHECK(error_of("server:\n  port: 70000\n") == "test.yaml:2:9: server.port: must be between 0 and 65535");
  CHECK_THAT(error_of("server:\n  header_limit: 10\n"), Contains("server.header_limit: must be between 1024"));
  CHECK_THAT(error_of("server:\n  body_limit: 1GiB\n"), Contains("server.body_limit: must be between 0 and 268435456"));
  CHECK(error_of("database:\n  pool_min: 20\n  pool_max: 4\n") ==
        "test.yaml:2:13: database.pool_min: must not exceed pool_max (4)");
  CHECK(error_of("server:\n  cors:\n    origins: [app.example.com]\n") ==
        "test.yaml:3:14: server.cors.origins: 'app.example.com' is not an origin (scheme://host[:port]) or *");
  CHECK(error_of("metrics:\n  listen: nowhere\n") ==
        "test.yaml:2:11: metrics.listen: expected host:port, got 'nowhere'");
  // The admin API is behind the platform-admin guard on the main listener.
  CHECK_NOTHROW(parse("jobs:\n  admin_api: true\n"));
  CHECK_THAT(error_of("auth:\n  jwt:\n    keys:\n      k1: short\n"),
             Contains("auth.jwt.keys.k1: a signing key needs at least 32 bytes"));
  CHECK_THAT(error_of("auth:\n  refresh_ttl: 240h\n  session_max_age: 24h\n"),
             Contains("auth.session_max_age: must not be shorter than refresh_ttl"));
  CHECK_THAT(error_of("auth:\n  cookies:\n    allowed_origins: [https://app.example.com/]\n"),
             Contains("is not an origin"));
  CHECK_THAT(error_of("auth:\n  public_url: app.example.com\n"), Contains("auth.public_url: must start with"));
  CHECK_THAT(error_of("auth:\n  rate_limits:\n    users: {limit: 5}\n"), Contains("auth.rate_limits.users: unknown key"));
}

TEST_CASE("invalid YAML is reported with its position", "[config]") {
  CHECK_THAT(error_of("server:\n  port: [1\n"), Contains("test.yaml:") && Contains("invalid YAML"));
  CHECK_THAT(error_of("- a\n- b\n"), Contains("must be a mapping"));
}

TEST_CASE("environment overrides win over the file", "[config]") {
  ScopedEnv port("HUNTAZE_SERVER_PORT", "9100");
  ScopedEnv origins("HUNTAZE_SERVER_CORS_ORIGINS", "https://a.example, https://b.example");
  auto c = parse("server:\n  port: 8000\n");
  CHECK(c.server.port == 9100);
  CHECK(c.server.cors.allowed_origins == std::vector<std::string>{"https://a.example", "https://b.example"});
}

TEST_CASE("a bad environment override names the variable", "[config]") {
  ScopedEnv port("HUNTAZE_SERVER_PORT", "x");
  CHECK(error_of("") == "environment HUNTAZE_SERVER_PORT: server.port: expected an integer, got 'x'");
}

TEST_CASE("an environment override that matches no key is an error", "[config]") {
  ScopedEnv typo("HUNTAZE_SERVER_PROT", "1");
  CHECK(error_of("") == "environment HUNTAZE_SERVER_PROT: no configuration key matches this override");
}

TEST_CASE("${ENV} and ${file:} substitution fill secrets, which are redacted", "[config]") {
  ScopedEnv pw("UNIT_PG_PASSWORD", "s3cret");
  char path[] = "/tmp/huntaze-secret-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  std::ofstream(path) << "redis-pass\n";
  auto c = parse("database:\n  url: postgresql://u:${UNIT_PG_PASSWORD}@db/x\nredis:\n  password: ${file:" +
                 std::string(path) + "}\n");
  ::unlink(path);
  CHECK(c.database.url.reveal() == "postgresql://u:s3cret@db/x");
  CHECK(c.redis.password.reveal() == "redis-pass");
  for (const auto& [key, value] : c.effective) {
    INFO(key << " = " << value);
    CHECK(value.find("s3cret") == std::string::npos);
    CHECK(value.find("redis-pass") == std::string::npos);
  }
}

TEST_CASE("substitution failures are errors", "[config]") {
  CHECK(error_of("database:\n  url: ${UNIT_NOT_SET_ANYWHERE}\n") ==
        "test.yaml:2:8: database.url: environment variable UNIT_NOT_SET_ANYWHERE is not set");
  CHECK(parse("database:\n  url: ${UNIT_NOT_SET_ANYWHERE:-postgresql://x}\n").database.url.reveal() ==
        "postgresql://x");
  CHECK_THAT(error_of("redis:\n  password: ${file:/nonexistent/secret}\n"),
             Contains("redis.password: cannot read /nonexistent/secret"));
}

TEST_CASE("http_client.user_agent must be one header line", "[config]") {
  CHECK(parse("http_client:\n  user_agent: \"huntaze/1.0 (+https://huntaze.example)\"\n").http_client.user_agent ==
        "huntaze/1.0 (+https://huntaze.example)");
  for (const char* yaml :
       {"http_client:\n  user_agent: \"a\\r\\nX-Injected: 1\"\n", "http_client:\n  user_agent: \"a\\nb\"\n",
        "http_client:\n  user_agent: \"a\\rb\"\n", "http_client:\n  user_agent: \"a\\0b\"\n"}) {
    INFO(yaml);
    CHECK_THAT(error_of(yaml), Contains("http_client.user_agent: must be one line"));
  }
}
