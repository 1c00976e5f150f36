// Pieces of the outbound HTTP client that need no server: how header lines
// become ClientResponse::headers, how curl's result codes map to error kinds,
// and the method label its metrics share with the server's.
#include <curl/curl.h>

#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "http/curl_transfer.hpp"
#include "http/labels.hpp"
#include "huntaze/http/client.hpp"

using namespace huntaze;
using http::ClientResponse;
using http::detail::parse_header_line;
using Kind = http::HttpClientError::Kind;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

namespace {

// Feeds the lines as curl would, one call each.
ClientResponse parsed(std::initializer_list<std::string> lines) {
  ClientResponse res;
  for (const auto& line : lines) parse_header_line(res, line);
  return res;
}

}  // namespace

TEST_CASE("header lines become name/value pairs in order", "[http][client]") {
  auto res = parsed({"HTTP/1.1 200 OK\r\n", "Content-Type: text/plain\r\n", "Set-Cookie: a=1\r\n",
                     "Set-Cookie: b=2\r\n", "Location: http://host:8080/path\r\n", "\r\n"});
  CHECK(res.headers == HeaderList{{"Content-Type", "text/plain"},
                                  {"Set-Cookie", "a=1"},
                                  {"Set-Cookie", "b=2"},
                                  {"Location", "http://host:8080/path"}});
  CHECK(res.header("content-type") == "text/plain");
  CHECK(res.header("SET-COOKIE") == "a=1");
  CHECK(res.header("missing").empty());
}

TEST_CASE("an interim 1xx response's headers do not leak into the final one", "[http][client]") {
  auto res = parsed({"HTTP/1.1 100 Continue\r\n", "X-Interim: yes\r\n", "\r\n", "HTTP/1.1 103 Early Hints\r\n",
                     "Link: </style.css>; rel=preload\r\n", "\r\n", "HTTP/1.1 200 OK\r\n", "X-Final: yes\r\n", "\r\n"});
  CHECK(res.headers == HeaderList{{"X-Final", "yes"}});
  CHECK(res.header("x-interim").empty());
  CHECK(res.header("link").empty());

  // HTTP/2's status line has no reason phrase.
  auto h2 = parsed({"HTTP/2 100\r\n", "x-interim: yes\r\n", "\r\n", "HTTP/2 200\r\n", "x-final: yes\r\n", "\r\n"});
  CHECK(h2.headers == HeaderList{{"x-final", "yes"}});
}

TEST_CASE("folded header lines are joined to the previous value", "[http][client]") {
  auto res = parsed(
      {"HTTP/1.1 200 OK\r\n", "X-Long: first\r\n", " second part\r\n", "\t third\t\r\n", "X-Next: n\r\n", "\r\n"});
  CHECK(res.headers == HeaderList{{"X-Long", "first second part third"}, {"X-Next", "n"}});

  // A whitespace-only continuation adds nothing; one before any header is dropped.
  auto blank = parsed({"HTTP/1.1 200 OK\r\n", "X-A: a\r\n", " \t\r\n", "\r\n"});
  CHECK(blank.headers == HeaderList{{"X-A", "a"}});
  auto orphan = parsed({"HTTP/1.1 200 OK\r\n", " orphan\r\n", "X-A: a\r\n"});
  CHECK(orphan.headers == HeaderList{{"X-A", "a"}});
}

TEST_CASE("names and values are trimmed of whitespace and the line ending", "[http][client]") {
  auto res = parsed({"HTTP/1.1 200 OK\r\n", "X-Spaces:   padded value \t\r\n", "X-Tight:v\r\n", "X-Bare-LF: lf\n",
                     "X-Empty:\r\n", "X-Blank:   \r\n", "X-No-Ending: last"});
  CHECK(res.headers == HeaderList{{"X-Spaces", "padded value"},
                                  {"X-Tight", "v"},
                                  {"X-Bare-LF", "lf"},
                                  {"X-Empty", ""},
                                  {"X-Blank", ""},
                                  {"X-No-Ending", "last"}});
  // Inner whitespace is kept.
  CHECK(parsed({"X-Inner: a  b\r\n"}).headers == HeaderList{{"X-Inner", "a  b"}});
}

TEST_CASE("a header line without a colon is ignored", "[http][client]") {
  auto res = parsed({"HTTP/1.1 200 OK\r\n", "no colon here\r\n", "X-Ok: 1\r\n", "garbage\r\n", "\r\n", ""});
  CHECK(res.headers == HeaderList{{"X-Ok", "1"}});
}

TEST_CASE("curl results map to error kinds", "[http][client]") {
  using http::detail::error_kind;
  CHECK(error_kind(CURLE_OPERATION_TIMEDOUT) == Kind::timeout);
  CHECK(error_kind(CURLE_COULDNT_RESOLVE_HOST) == Kind::connect);
  CHECK(error_kind(CURLE_COULDNT_CONNECT) == Kind::connect);
  CHECK(error_kind(CURLE_RECV_ERROR) == Kind::connect);
  CHECK(error_kind(CURLE_GOT_NOTHING) == Kind::connect);
  CHECK(error_kind(CURLE_PEER_FAILED_VERIFICATION) == Kind::tls);
  CHECK(error_kind(CURLE_SSL_CONNECT_ERROR) == Kind::tls);
  CHECK(error_kind(CURLE_SSL_CACERT_BADFILE) == Kind::tls);
  CHECK(error_kind(CURLE_FILESIZE_EXCEEDED) == Kind::too_large);
  CHECK(error_kind(CURLE_WEIRD_SERVER_REPLY) == Kind::protocol);
  CHECK(error_kind(CURLE_HTTP2_STREAM) == Kind::protocol);
  CHECK(error_kind(CURLE_BAD_CONTENT_ENCODING) == Kind::protocol);
  CHECK(error_kind(CURLE_ABORTED_BY_CALLBACK) == Kind::cancelled);
  CHECK(error_kind(CURLE_URL_MALFORMAT) == Kind::other);
  CHECK(error_kind(CURLE_UNSUPPORTED_PROTOCOL) == Kind::other);
  CHECK(error_kind(CURLE_OUT_OF_MEMORY) == Kind::other);
  CHECK(to_string(Kind::too_large) == "too_large");
  CHECK(to_string(Kind::timeout) == "timeout");
}

TEST_CASE("method label values are bounded", "[http][client]") {
  using http::detail::method_label;
  for (const char* known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
    CHECK(method_label(known) == known);
  CHECK(method_label("PURGE") == "OTHER");
  CHECK(method_label("get") == "OTHER");  // methods are case-sensitive
  CHECK(method_label("") == "OTHER");
}
