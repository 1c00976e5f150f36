// Cross-origin resource sharing for the configured browser origins.
#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "huntaze/core/strings.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::http {

namespace {

bool origin_allowed(const CorsOptions& o, std::string_view origin) {
  return std::any_of(o.allowed_origins.begin(), o.allowed_origins.end(),
                     [&](const std::string& a) { return a == "*" || a == origin; });
}

void add_origin_headers(const CorsOptions& o, std::string_view origin, Response& res) {
  const bool wildcard = std::find(o.allowed_origins.begin(), o.allowed_origins.end(), "*") != o.allowed_origins.end();
  // With credentials the spec forbids "*": echo the origin instead.
  if (wildcard && !o.allow_credentials) {
    res.headers.set("Access-Control-Allow-Origin", "*");
  } else {
    res.headers.set("Access-Control-Allow-Origin", std::string(origin));
    res.headers.add("Vary", "Origin");
  }
  if (o.allow_credentials) res.headers.set("Access-Control-Allow-Credentials", "true");
  res.headers.set("Access-Control-Expose-Headers",
                  "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset");
}

asio::awaitable<Response> with_cors(std::shared_ptr<const CorsOptions> o, Request& req, const Next& next) {
  auto origin = req.headers.get("Origin");
  const bool allowed = origin && origin_allowed(*o, *origin);
  if (req.method == "OPTIONS" && origin && req.headers.has("Access-Control-Request-Method")) {
    Response res = Response::no_content();
    if (allowed) {
      add_origin_headers(*o, *origin, res);
      res.headers.set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE");
      res.headers.set("Access-Control-Allow-Headers", join(o->allowed_headers));
      res.headers.set("Access-Control-Max-Age", std::to_string(o->max_age_seconds));
    }
    co_return res;
  }
  Response res = co_await next(req);
  if (allowed) add_origin_headers(*o, *origin, res);
  co_return res;
}

}  // namespace

Middleware cors(CorsOptions options) {
  auto o = std::make_shared<const CorsOptions>(std::move(options));
  return [o](Request& req, const Next& next) { return with_cors(o, req, next); };
}

}  // namespace huntaze::http
