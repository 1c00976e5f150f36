#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "huntaze/core/error.hpp"
#include "huntaze/http/middleware.hpp"
#include "support/harness.hpp"

using namespace huntaze;
using namespace huntaze::http;
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Fixture {
  metrics::Registry registry;
  Router router;
  Handler pipeline;

  explicit Fixture(CorsOptions cors_options = {}) {
    router.get("/ok", [](Request&) -> asio::awaitable<Response> { co_return Response::json_text(200, "{}"); });
    router.get("/items/{id}", [](Request& req) -> asio::awaitable<Response> {
      if (req.param("id") == "missing") throw ApiError::not_found("no such item");
      if (req.param("id") == "invalid") throw ApiError::bad_request("invalid item", {{"id", "must be a UUID"}});
      if (req.param("id") == "busy") throw ApiError(429, "rate_limited", "slow down").with_retry_after(7);
      if (req.param("id") == "bug") throw std::runtime_error("secret internal detail");
      co_return Response::json_text(200, "{}");
    });
    pipeline = build_pipeline({request_id(), observe(registry, {.access_log = false}), security_headers(),
                               cors(std::move(cors_options)), errors()},
                              router);
  }

  Response call(std::string method, std::string path, std::vector<std::pair<std::string, std::string>> headers = {}) {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.target = req.path;
    for (auto& [k, v] : headers) req.headers.add(k, v);
    return test::run<Response>([&]() -> asio::awaitable<Response> { co_return co_await pipeline(req); });
  }
};

json::object error_of(const Response& res) {
  return json::parse(res.body).as_object().at("error").as_object();
}

}  // namespace

TEST_CASE("an ApiError becomes the JSON error body with its status", "[pipeline]") {
  Fixture f;
  auto res = f.call("GET", "/items/missing");
  CHECK(res.status == 404);
  CHECK(res.headers.get("Content-Type") == "application/json");
  auto err = error_of(res);
  CHECK(err.at("code") == "not_found");
  CHECK(err.at("message") == "no such item");
  CHECK(std::string(err.at("request_id").as_string()) == std::string(*res.headers.get("X-Request-Id")));
  CHECK(err.at("details").as_array().empty());

  res = f.call("GET", "/items/invalid");
  CHECK(res.status == 400);
  auto details = error_of(res).at("details").as_array();
  REQUIRE(details.size() == 1);
  CHECK(details[0].at("field") == "id");
  CHECK(details[0].at("message") == "must be a UUID");

  res = f.call("GET", "/items/busy");
  CHECK(res.status == 429);
  CHECK(res.headers.get("Retry-After") == "7");
}

TEST_CASE("an unexpected exception is a 500 that leaks nothing", "[pipeline]") {
  Fixture f;
  auto res = f.call("GET", "/items/bug");
  CHECK(res.status == 500);
  CHECK(error_of(res).at("code") == "internal_error");
  CHECK(res.body.find("secret internal detail") == std::string::npos);
}

TEST_CASE("unknown routes are 404 and wrong methods 405 with Allow", "[pipeline]") {
  Fixture f;
  auto res = f.call("GET", "/nope");
  CHECK(res.status == 404);
  CHECK(error_of(res).at("code") == "not_found");
  res = f.call("DELETE", "/ok");
  CHECK(res.status == 405);
  CHECK(res.headers.get("Allow") == "GET, HEAD");
  CHECK(error_of(res).at("code") == "method_not_allowed");
  res = f.call("GET", "/items/%zz");
  CHECK(res.status == 400);
}

TEST_CASE("a sane incoming request id is kept, anything else replaced", "[pipeline]") {
  Fixture f;
  CHECK(f.call("GET", "/ok", {{"X-Request-Id", "abc-123.x_y:z"}}).headers.get("X-Request-Id") == "abc-123.x_y:z");
  auto res = f.call("GET", "/ok", {{"X-Request-Id", "bad id with spaces\r\n"}});
  CHECK(res.headers.get("X-Request-Id") != "bad id with spaces\r\n");
  CHECK(res.headers.get("X-Request-Id")->size() == 36);
  CHECK(f.call("GET", "/ok", {{"X-Request-Id", std::string(200, 'a')}}).headers.get("X-Request-Id")->size() == 36);
}

TEST_CASE("security headers are set on every response", "[pipeline]") {
  Fixture f;
  for (auto path : {"/ok", "/nope", "/items/bug"}) {
    auto res = f.call("GET", path);
    CHECK(res.headers.get("X-Content-Type-Options") == "nosniff");
    CHECK(res.headers.get("X-Frame-Options") == "DENY");
    CHECK(res.headers.get("Cache-Control") == "no-store");
    CHECK(res.headers.has("Content-Security-Policy"));
  }
}

TEST_CASE("CORS answers preflights for allowed origins only", "[pipeline]") {
  Fixture f(CorsOptions{.allowed_origins = {"https://app.example.com"}, .allow_credentials = true});
  auto res =
      f.call("OPTIONS", "/ok", {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(res.status == 204);
  CHECK(res.headers.get("Access-Control-Allow-Origin") == "https://app.example.com");
  CHECK(res.headers.get("Access-Control-Allow-Credentials") == "true");
  CHECK(res.headers.has("Access-Control-Allow-Methods"));

  res = f.call("OPTIONS", "/ok", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK_FALSE(res.headers.has("Access-Control-Allow-Origin"));

  res = f.call("GET", "/ok", {{"Origin", "https://app.example.com"}});
  CHECK(res.status == 200);
  CHECK(res.headers.get("Access-Control-Allow-Origin") == "https://app.example.com");
  CHECK(res.headers.get("Vary") == "Origin");
  CHECK_FALSE(f.call("GET", "/ok", {{"Origin", "https://evil.example"}}).headers.has("Access-Control-Allow-Origin"));
}

TEST_CASE("requests are counted by route template, method and status", "[pipeline]") {
  Fixture f;
  f.call("GET", "/items/1");
  f.call("GET", "/items/2");
  f.call("GET", "/nope/1");
  auto text = f.registry.render();
  CHECK_THAT(text,
             Catch::Matchers::Contains("http_requests_total{route=\"/items/{id}\",method=\"GET\",status=\"200\"} 2"));
  CHECK_THAT(text,
             Catch::Matchers::Contains("http_requests_total{route=\"<unmatched>\",method=\"GET\",status=\"404\"} 1"));
  f.call("BREW", "/ok");
  CHECK_THAT(f.registry.render(), Catch::Matchers::Contains("method=\"OTHER\""));
}
