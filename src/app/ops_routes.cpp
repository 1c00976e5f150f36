#include "app/ops_routes.hpp"

#include "app/deadline.hpp"
#include "huntaze/core/log.hpp"

namespace huntaze::app {

namespace {

namespace asio = boost::asio;

// An empty string means healthy; otherwise the reason.
asio::awaitable<std::string> check_postgres(db::Database& db) {
  try {
    auto res = co_await db.query("SELECT 1");
    if (res.size() != 1) co_return std::string("unexpected answer");
    co_return std::string();
  } catch (const std::exception& e) {
    co_return std::string(e.what());
  }
}

asio::awaitable<std::string> check_redis(redis::Redis& redis) {
  try {
    auto reply = co_await redis.command("PING");
    if (reply.str != "PONG") co_return std::string("unexpected answer");
    co_return std::string();
  } catch (const std::exception& e) {
    co_return std::string(e.what());
  }
}

asio::awaitable<std::string> bounded(asio::awaitable<std::string> check, std::chrono::milliseconds timeout) {
  auto outcome = co_await within(std::move(check), timeout);
  co_return outcome ? *outcome : "no answer within " + std::to_string(timeout.count()) + " ms";
}

asio::awaitable<http::Response> readyz(OpsDependencies deps, http::Request& req) {
  // One after the other: each round trip is tens of microseconds, and running
  // them in parallel costs more CPU (a parallel group per probe) than it saves.
  auto pg = co_await bounded(check_postgres(deps.database), deps.readiness_timeout);
  auto rd = co_await bounded(check_redis(deps.redis), deps.readiness_timeout);
  if (pg.empty() && rd.empty())
    co_return http::Response::json_text(200, R"({"status":"ready","checks":{"postgres":"ok","redis":"ok"}})");
  std::vector<ErrorDetail> down;
  std::string names;
  if (!pg.empty()) {
    down.push_back({"postgres", pg});
    names = "postgres";
  }
  if (!rd.empty()) {
    down.push_back({"redis", rd});
    names += names.empty() ? "redis" : " and redis";
  }
  log::warn("not ready", {{"down", names}, {"request_id", req.request_id}});
  auto res = http::error_response(503, "not_ready", names + " unavailable", req.request_id, down);
  res.headers.set("Retry-After", "1");
  co_return res;
}

}  // namespace

void register_ops_routes(http::Router& router, OpsDependencies deps) {
  router.get("/healthz", [](http::Request&) -> asio::awaitable<http::Response> {
    co_return http::Response::json_text(200, R"({"status":"ok"})");
  });
  router.get("/readyz", [deps](http::Request& req) { return readyz(deps, req); });
  if (deps.metrics_enabled) {
    router.get("/metrics", [&registry = deps.metrics](http::Request&) -> asio::awaitable<http::Response> {
      co_return http::Response::text(200, registry.render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }
}

}  // namespace huntaze::app
