#include "huntaze/http/router.hpp"

#include <catch2/catch.hpp>

using namespace huntaze::http;

namespace {

Handler noop() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response::no_content(); };
}

}  // namespace

TEST_CASE("literal routes and path parameters match", "[router]") {
  Router r;
  r.get("/healthz", noop());
  r.get("/api/v1/fans/{id}", noop());
  r.get("/api/v1/fans/{id}/messages/{message_id}", noop());

  auto m = r.match("GET", "/api/v1/fans/abc");
  REQUIRE(m.route);
  CHECK(m.route->pattern == "/api/v1/fans/{id}");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0] == std::pair<std::string, std::string>{"id", "abc"});

  m = r.match("GET", "/api/v1/fans/7/messages/9");
  REQUIRE(m.route);
  CHECK(m.params.size() == 2);
  CHECK(m.params[1].second == "9");

  CHECK(r.match("GET", "/healthz").route);
}

TEST_CASE("a literal segment wins over a parameter, with fallback to the parameter branch", "[router]") {
  Router r;
  r.get("/a/new", noop());
  r.get("/a/{id}", noop());
  r.get("/a/{id}/edit", noop());
  CHECK(r.match("GET", "/a/new").route->pattern == "/a/new");
  CHECK(r.match("GET", "/a/42").route->pattern == "/a/{id}");
  auto m = r.match("GET", "/a/new/edit");  // "new" as an id: the literal branch has no /edit
  REQUIRE(m.route);
  CHECK(m.route->pattern == "/a/{id}/edit");
  CHECK(m.params[0].second == "new");
}

TEST_CASE("unknown paths are not found, other methods list what is allowed", "[router]") {
  Router r;
  r.get("/things/{id}", noop());
  r.del("/things/{id}", noop());
  auto m = r.match("GET", "/nothing");
  CHECK_FALSE(m.route);
  CHECK(m.allowed.empty());

  m = r.match("POST", "/things/1");
  CHECK_FALSE(m.route);
  CHECK(m.allowed == std::vector<std::string>{"DELETE", "GET", "HEAD"});
}

TEST_CASE("HEAD uses the GET route", "[router]") {
  Router r;
  r.get("/x", noop());
  CHECK(r.match("HEAD", "/x").route);
}

TEST_CASE("trailing slashes, empty segments and over-long paths do not match", "[router]") {
  Router r;
  r.get("/a/{id}", noop());
  CHECK_FALSE(r.match("GET", "/a/").route);
  CHECK_FALSE(r.match("GET", "/a//").route);
  CHECK_FALSE(r.match("GET", "/a/1/").route);
  CHECK_FALSE(r.match("GET", "a/1").route);
  std::string deep = "/a";
  for (int i = 0; i < 10000; ++i) deep += "/x";
  CHECK_FALSE(r.match("GET", deep).route);
}

TEST_CASE("parameters are percent-decoded, malformed escapes are flagged", "[router]") {
  Router r;
  r.get("/files/{name}", noop());
  auto m = r.match("GET", "/files/a%20b%2Fc");
  REQUIRE(m.route);
  CHECK(m.params[0].second == "a b/c");
  m = r.match("GET", "/files/bad%zz");
  CHECK_FALSE(m.route);
  CHECK(m.bad_path);
}

TEST_CASE("malformed and duplicate templates are rejected", "[router]") {
  Router r;
  r.get("/a/{id}", noop());
  CHECK_THROWS_AS(r.get("/a/{id}", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.get("/a/{other}/x", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.get("no-slash", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.get("/a//b", noop()), std::invalid_argument);
  CHECK_THROWS_AS(r.get("/a/x{id}", noop()), std::invalid_argument);
  CHECK_NOTHROW(r.post("/a/{id}", noop()));
}

TEST_CASE("query parameters are decoded", "[router]") {
  Request req;
  req.query = "limit=10&cursor=a%2Bb&q=hello+world&flag";
  CHECK(req.query_param("limit") == "10");
  CHECK(req.query_param("cursor") == "a+b");
  CHECK(req.query_param("q") == "hello world");
  CHECK(req.query_param("flag") == "");
  CHECK_FALSE(req.query_param("missing"));
}
