#include <catch2/catch.hpp>

#include "http/response_writer.hpp"

using namespace huntaze::http;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("a response head carries status, headers, Date and the body length", "[wire]") {
  auto res = Response::json_text(201, R"({"id":1})");
  res.headers.set("X-Request-Id", "abc");
  auto head = serialize_head(res, {});
  CHECK_THAT(head, StartsWith("HTTP/1.1 201 Created\r\n"));
  CHECK_THAT(head, Contains("Content-Type: application/json\r\n"));
  CHECK_THAT(head, Contains("X-Request-Id: abc\r\n"));
  CHECK_THAT(head, Contains("Date: "));
  CHECK_THAT(head, Contains("Content-Length: 8\r\n"));
  CHECK(head.find("Connection:") == std::string::npos);  // HTTP/1.1 keeps alive by default
  CHECK(head.size() >= 4);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}

TEST_CASE("header lines with CR or LF are dropped, so a handler cannot split the response", "[wire]") {
  Response res = Response::text(200, "ok");
  res.headers.add("X-Echo", "value\r\nSet-Cookie: stolen=1");
  res.headers.add("Bad\nName", "x");
  auto head = serialize_head(res, {});
  CHECK(head.find("stolen") == std::string::npos);
  CHECK(head.find("Bad") == std::string::npos);
}

TEST_CASE("the server owns framing headers", "[wire]") {
  Response res = Response::text(200, "four");
  res.headers.add("Content-Length", "999");
  res.headers.add("transfer-encoding", "gzip");
  res.headers.add("Connection", "upgrade");
  auto head = serialize_head(res, {.keep_alive = false});
  CHECK_THAT(head, Contains("Content-Length: 4\r\n"));
  CHECK(head.find("999") == std::string::npos);
  CHECK(head.find("gzip") == std::string::npos);
  CHECK_THAT(head, Contains("Connection: close\r\n"));
}

TEST_CASE("bodiless statuses carry no length, streams are chunked, HTTP/1.0 keep-alive is explicit", "[wire]") {
  CHECK(serialize_head(Response::no_content(), {}).find("Content-Length") == std::string::npos);
  auto streamed = Response::streamed(200, "text/event-stream", nullptr);
  CHECK_THAT(serialize_head(streamed, {.chunked = true}), Contains("Transfer-Encoding: chunked\r\n"));
  CHECK_THAT(serialize_head(Response::text(200, "x"), {.http10 = true}), Contains("Connection: keep-alive\r\n"));
}
