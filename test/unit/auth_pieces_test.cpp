// The small parsers of the auth module: email addresses, cookies, the CSRF
// check, token shapes, and the auth configuration's derived defaults.
#include <catch2/catch.hpp>

#include "app/app_config.hpp"
#include "auth/cookies.hpp"
#include "auth/guard.hpp"
#include "auth/json_body.hpp"
#include "auth/tokens.hpp"

using namespace huntaze;
using namespace huntaze::auth;

TEST_CASE("email addresses are trimmed and lower-cased and must be deliverable", "[auth][unit]") {
  CHECK(normalize_email("  Creator@Example.COM ") == "creator@example.com");
  CHECK(normalize_email("a.b+tag@mail.example.org") == "a.b+tag@mail.example.org");
  for (const char* bad : {"", "no-at", "@example.com", "a@", "a@@example.com", "a b@example.com", "a@exa mple.com",
                          "\"q\"@example.com", "a@example.com\r\nBcc: x@y.z", "é@example.com", "a..b@example.com",
                          "<a@example.com>"}) {
    INFO(bad);
    CHECK_FALSE(normalize_email(bad).has_value());
  }
  CHECK_FALSE(normalize_email(std::string(250, 'a') + "@example.com").has_value());
}

TEST_CASE("cookies are found by exact name across Cookie headers", "[auth][unit]") {
  http::Request req;
  req.headers.add("Cookie", "other=1; hz_access_x=no; hz_access=\"tok\"");
  req.headers.add("Cookie", "hz_csrf=abc");
  CHECK(find_cookie(req, "hz_access") == "tok");
  CHECK(find_cookie(req, "hz_csrf") == "abc");
  CHECK_FALSE(find_cookie(req, "hz_refresh").has_value());
  http::Request huge;
  huge.headers.add("Cookie", "hz_access=" + std::string(5000, 'x'));
  CHECK_FALSE(find_cookie(huge, "hz_access").has_value());
}

TEST_CASE("the CSRF check wants the token echoed and an allowed origin", "[auth][unit]") {
  CookieConfig config;
  config.allowed_origins = {"https://app.example.com"};
  auto request = [](std::string cookie, std::string header, std::string origin) {
    http::Request r;
    r.method = "POST";
    if (!cookie.empty()) r.headers.add("Cookie", "hz_csrf=" + cookie);
    if (!header.empty()) r.headers.add("X-CSRF-Token", header);
    if (!origin.empty()) r.headers.add("Origin", origin);
    return r;
  };
  CHECK_NOTHROW(check_csrf(request("t1", "t1", "https://app.example.com"), config));
  CHECK_NOTHROW(check_csrf(request("t1", "t1", ""), config));
  CHECK_THROWS_AS(check_csrf(request("t1", "t2", "https://app.example.com"), config), ApiError);
  CHECK_THROWS_AS(check_csrf(request("", "t1", ""), config), ApiError);
  CHECK_THROWS_AS(check_csrf(request("t1", "", ""), config), ApiError);
  CHECK_THROWS_AS(check_csrf(request("t1", "t1", "https://evil.example.com"), config), ApiError);
  CHECK_THROWS_AS(check_csrf(request("t1", "t1", "null"), config), ApiError);
  CHECK_FALSE(is_state_changing("GET"));
  CHECK(is_state_changing("DELETE"));
}

TEST_CASE("opaque tokens have one shape and a fixed-size hash", "[auth][unit]") {
  const std::string t = new_token(kRefreshPrefix);
  CHECK(t.size() == 4 + 43);
  CHECK(well_formed_token(t, kRefreshPrefix));
  CHECK_FALSE(well_formed_token(t, kApiKeyPrefix));
  CHECK_FALSE(well_formed_token(t.substr(0, t.size() - 1), kRefreshPrefix));
  CHECK_FALSE(well_formed_token(t.substr(0, t.size() - 1) + "=", kRefreshPrefix));
  CHECK(new_token(kRefreshPrefix) != t);
  CHECK(token_hash(t).data.size() == 32);
  CHECK(token_hash(t) == token_hash(t));
}

TEST_CASE("cookie origins default to the web app's origin", "[auth][unit]") {
  auto parse = [](const std::string& yaml) {
    auto doc = config::Document::load_string(yaml, "test.yaml");
    return app::load_config(doc).auth;
  };
  CHECK(parse("").cookies.allowed_origins == std::vector<std::string>{"http://localhost:8080"});
  CHECK(parse("auth:\n  public_url: https://app.example.com/huntaze/\n").cookies.allowed_origins ==
        std::vector<std::string>{"https://app.example.com"});
  CHECK(parse("auth:\n  cookies:\n    allowed_origins: [https://a.example]\n").cookies.allowed_origins ==
        std::vector<std::string>{"https://a.example"});
  CHECK_THROWS_AS(parse("auth:\n  public_url: https:///path\n"), config::ConfigError);
  CHECK_THROWS_AS(parse("auth:\n  public_url: \"https://a b\"\n"), config::ConfigError);
}

TEST_CASE("Bearer values are read alike by the guard and the address limit", "[auth][unit]") {
  CHECK(auth::bearer_value("Bearer abc") == "abc");
  CHECK(auth::bearer_value("bearer abc") == "abc");
  CHECK(auth::bearer_value("Bearer  \thzk_x \t") == "hzk_x");
  CHECK(auth::bearer_value("Bearer ") == "");
  CHECK_FALSE(auth::bearer_value("Basic abc").has_value());
  CHECK_FALSE(auth::bearer_value("Bearer").has_value());
  CHECK_FALSE(auth::bearer_value("Bearerabc").has_value());
}

TEST_CASE("the presented credential: the Authorization header first, else the access cookie", "[auth][unit]") {
  // The token is a view into its request: each request is kept alive here.
  auto request = [](std::initializer_list<std::pair<const char*, const char*>> headers) {
    http::Request r;
    for (const auto& [name, value] : headers) r.headers.add(name, value);
    return r;
  };
  const http::Request none = request({});
  const http::Request empty_cookie = request({{"Cookie", "hz_access="}});
  CHECK_FALSE(auth::presented_token(none).has_value());
  CHECK_FALSE(auth::presented_token(empty_cookie).has_value());

  const http::Request both = request({{"Authorization", "Bearer abc"}, {"Cookie", "hz_access=tok"}});
  const auto bearer = auth::presented_token(both);
  REQUIRE(bearer);
  CHECK(bearer->token == "abc");
  CHECK_FALSE(bearer->via_cookie);
  CHECK_FALSE(bearer->api_key());

  const http::Request key_in_cookie = request({{"Cookie", "hz_access=hzk_looks_like_a_key"}});
  const auto cookie = auth::presented_token(key_in_cookie);
  REQUIRE(cookie);
  CHECK(cookie->via_cookie);
  CHECK_FALSE(cookie->api_key());  // cookies never carry API keys

  const http::Request key_request = request({{"Authorization", "Bearer hzk_abc"}});
  const auto key = auth::presented_token(key_request);
  REQUIRE(key);
  CHECK(key->api_key());

  const http::Request basic_request = request({{"Authorization", "Basic abc"}, {"Cookie", "hz_access=tok"}});
  const auto basic = auth::presented_token(basic_request);
  REQUIRE(basic);
  CHECK(basic->malformed);  // a bad header is not overridden by a cookie
}
