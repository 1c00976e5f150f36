// request_id, security_headers and errors: small middleware with no state.
#include <boost/asio/awaitable.hpp>
#include <exception>

#include "huntaze/core/error.hpp"
#include "huntaze/core/log.hpp"
#include "huntaze/core/uuid.hpp"
#include "huntaze/http/middleware.hpp"

namespace huntaze::http {

namespace {

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  return true;
}

asio::awaitable<Response> with_request_id(Request& req, const Next& next) {
  auto incoming = req.headers.get("X-Request-Id");
  req.request_id = incoming && sane_request_id(*incoming) ? std::string(*incoming) : Uuid::v7().str();
  Response res = co_await next(req);
  res.headers.set("X-Request-Id", req.request_id);
  co_return res;
}

asio::awaitable<Response> with_security_headers(Request& req, const Next& next) {
  Response res = co_await next(req);
  auto set_default = [&](const char* name, const char* value) {
    if (!res.headers.has(name)) res.headers.set(name, value);
  };
  set_default("X-Content-Type-Options", "nosniff");
  set_default("X-Frame-Options", "DENY");
  set_default("Referrer-Policy", "no-referrer");
  set_default("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  set_default("Cache-Control", "no-store");
  co_return res;
}

// Not a coroutine, so the catch blocks may do anything they like.
Response map_exception(std::exception_ptr failure, const Request& req) {
  try {
    std::rethrow_exception(failure);
  } catch (const ApiError& e) {
    if (e.status() >= 500)
      log::warn("request failed", {{"request_id", req.request_id}, {"code", e.code()}, {"error", e.what()}});
    return error_response(e, req.request_id);
  } catch (const std::exception& e) {
    log::error("unhandled exception in request",
               {{"request_id", req.request_id}, {"route", req.route}, {"method", req.method}, {"error", e.what()}});
  } catch (...) {
    log::error("unhandled non-standard exception in request", {{"request_id", req.request_id}, {"route", req.route}});
  }
  return error_response(500, "internal_error", "internal error", req.request_id);
}

asio::awaitable<Response> with_errors(Request& req, const Next& next) {
  std::exception_ptr failure;
  try {
    co_return co_await next(req);
  } catch (...) {
    failure = std::current_exception();
  }
  co_return map_exception(failure, req);
}

}  // namespace

Middleware request_id() {
  return with_request_id;
}
Middleware security_headers() {
  return with_security_headers;
}
Middleware errors() {
  return with_errors;
}

}  // namespace huntaze::http
