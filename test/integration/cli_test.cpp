// The huntaze binary's commands and exit codes, run as a user would.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <csignal>

#include "support/child_process.hpp"
#include "support/harness.hpp"
#include "support/http_client.hpp"
#include "support/test_server.hpp"

using namespace huntaze;
using Catch::Matchers::Contains;

namespace {

struct Run {
  int code;
  std::string output;  // stdout and stderr
};

Run run(const std::string& args, const std::string& env = "") {
  const std::string out = "/tmp/huntaze-cli-" + std::to_string(::getpid()) + ".out";
  std::string cmd = "env " + env + " " + HUNTAZE_BINARY + " " + args + " > " + out + " 2>&1";
  int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(out.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/huntaze-cli-config-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("version and help exit 0, no or unknown commands exit 2", "[cli]") {
  auto v = run("version");
  CHECK(v.code == 0);
  CHECK_THAT(v.output, Contains("huntaze "));
  CHECK(run("serve --help").code == 0);
  CHECK_THAT(run("migrate --help").output, Contains("--status"));
  CHECK(run("").code == 2);
  CHECK(run("frobnicate").code == 2);
  CHECK(run("serve --bogus").code == 2);
}

TEST_CASE("check-config prints the effective configuration with secrets redacted", "[cli]") {
  auto file = write_temp("database:\n  url: postgresql://u:hunter2@db/x\nserver:\n  port: 9001\n");
  auto r = run("check-config --config " + file, "REDIS_SECRET=s3cret HUNTAZE_REDIS_PASSWORD='${REDIS_SECRET}'");
  std::remove(file.c_str());
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("server.port = 9001"));
  CHECK_THAT(r.output, Contains("database.url = <redacted>"));
  CHECK_THAT(r.output, Contains("redis.password = <redacted>"));
  CHECK(r.output.find("hunter2") == std::string::npos);
  CHECK(r.output.find("s3cret") == std::string::npos);
}

TEST_CASE("a bad configuration exits 2 with its location", "[cli]") {
  auto file = write_temp("server:\n  prot: 1\n");
  auto r = run("check-config --config " + file);
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains(file + ":2:3: server.prot: unknown key"));
  CHECK(run("serve --config " + file).code == 2);
  std::remove(file.c_str());
  CHECK(run("check-config --config /nonexistent.yaml").code == 2);
}

TEST_CASE("healthcheck exits 0 against a healthy server and 1 otherwise", "[cli]") {
  test::TestServer s;
  s.router.get("/healthz", [](http::Request&) -> boost::asio::awaitable<http::Response> {
    co_return http::Response::json_text(200, R"({"status":"ok"})");
  });
  s.start();
  CHECK(run("healthcheck --url http://127.0.0.1:" + std::to_string(s.port()) + "/healthz").code == 0);
  CHECK(run("healthcheck --url http://127.0.0.1:" + std::to_string(s.port()) + "/missing").code == 1);
  CHECK(run("healthcheck --url http://127.0.0.1:" + std::to_string(test::free_port()) + "/healthz").code == 1);
}

TEST_CASE("migrate applies, reports status, and fails clearly without a database", "[cli]") {
  const auto url = test::empty_database_url();
  const std::string env = "HUNTAZE_DATABASE_URL='" + url + "'";
  auto status = run("migrate --status --config /dev/null", env);
  CHECK(status.code == 0);
  CHECK_THAT(status.output, Contains("pending 0001_core_schemas.sql"));
  auto applied = run("migrate --config /dev/null", env);
  CHECK(applied.code == 0);
  CHECK_THAT(applied.output, Contains("applied"));
  auto after = run("migrate --status --config /dev/null", env);
  CHECK_THAT(after.output, Contains("applied 0001_core_schemas.sql"));
  CHECK_THAT(after.output, Contains("0 pending"));

  auto down = run("migrate --config /dev/null", "HUNTAZE_DATABASE_URL='host=127.0.0.1 port=" +
                                                    std::to_string(test::free_port()) +
                                                    " user=x dbname=x' HUNTAZE_DATABASE_CONNECT_TIMEOUT=500ms");
  CHECK(down.code == 1);
}

TEST_CASE("SIGHUP reloads the ai section, and a broken file changes nothing", "[cli]") {
  const auto url = test::empty_database_url();
  const int port = test::free_port(), admin = test::free_port();
  auto config = [&](const std::string& ai_extra) {
    return "server:\n  host: 127.0.0.1\n  port: " + std::to_string(port) + "\ndatabase:\n  url: \"" + url +
           "\"\nredis:\n  host: 127.0.0.1\n  port: " + std::to_string(test::shared_redis_config().port) +
           "\nlog:\n  level: warn\nmetrics:\n  listen: 127.0.0.1:" + std::to_string(admin) +
           "\nai:\n  http_api: true\n" + ai_extra;
  };
  const std::string file = write_temp(config(""));
  test::ChildProcess serve(HUNTAZE_BINARY, {"serve", "--config", file});
  auto models = [&]() -> std::string {
    try {
      auto r = test::http_get(admin, "/api/v1/ai/models");
      return r.status == 200 ? r.body : "";
    } catch (const std::exception&) {
      return "";
    }
  };
  REQUIRE(test::eventually([&] { return !models().empty(); }, std::chrono::seconds(30)));
  CHECK(models().find("canned-offline") == std::string::npos);

  std::ofstream(file) << config("  deployments:\n    canned-offline:\n      provider: templates\n      auth: none\n");
  serve.signal(SIGHUP);
  CHECK(test::eventually([&] { return models().find("canned-offline") != std::string::npos; }));

  std::ofstream(file) << config("  deployments:\n    canned-offline:\n      provider: nonsense\n");
  serve.signal(SIGHUP);
  bool refused = false;
  while (!refused) {
    auto line = serve.read_line(std::chrono::seconds(10));
    if (!line) break;
    refused = line->find("ai configuration reload failed") != std::string::npos;
  }
  CHECK(refused);
  // The broken version changed nothing: the deployment is still there and
  // the process still serves.
  CHECK(models().find("canned-offline") != std::string::npos);
  serve.signal(SIGTERM);
  auto exit = serve.wait(std::chrono::seconds(30));
  REQUIRE(exit);
  std::remove(file.c_str());
}
