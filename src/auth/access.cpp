#include "huntaze/auth/access.hpp"

#include <array>

namespace huntaze::auth {

namespace asio = boost::asio;

namespace {

constexpr std::array<std::string_view, 4> kRoles{"viewer", "chatter", "manager", "owner"};

void add_rate_headers(http::Response& res, const Access& access) {
  if (access.rate_limit <= 0) return;
  res.headers.set("RateLimit-Limit", std::to_string(access.rate_limit));
  res.headers.set("RateLimit-Remaining", std::to_string(access.rate_remaining));
  res.headers.set("RateLimit-Reset", std::to_string(access.rate_reset_seconds));
}

}  // namespace

std::string_view to_string(Role role) noexcept { return kRoles[static_cast<size_t>(role)]; }

std::optional<Role> parse_role(std::string_view text) noexcept {
  for (size_t i = 0; i < kRoles.size(); ++i)
    if (kRoles[i] == text) return static_cast<Role>(i);
  return std::nullopt;
}

std::optional<Scope> parse_scope(std::string_view text) noexcept {
  if (text == "read") return scope_read;
  if (text == "ingest") return scope_ingest;
  if (text == "admin") return scope_admin;
  return std::nullopt;
}

std::string_view to_string(Scope scope) noexcept {
  switch (scope) {
    case scope_read: return "read";
    case scope_ingest: return "ingest";
    case scope_admin: return "admin";
  }
  return "unknown";
}

http::Handler guarded(Guard& guard, Requirement need, GuardedHandler handler) {
  return [&guard, need, handler = std::move(handler)](http::Request& req) -> asio::awaitable<http::Response> {
    const Access access = co_await guard.require(req, need);
    http::Response res = co_await handler(req, access);
    add_rate_headers(res, access);
    co_return res;
  };
}

http::Handler guarded(Guard& guard, Requirement need, http::Handler handler) {
  return [&guard, need, handler = std::move(handler)](http::Request& req) -> asio::awaitable<http::Response> {
    const Access access = co_await guard.require(req, need);
    if (!access.workspace_id.is_nil()) req.headers.set("X-Huntaze-Workspace", access.workspace_id.str());
    http::Response res = co_await handler(req);
    add_rate_headers(res, access);
    co_return res;
  };
}

}  // namespace huntaze::auth
